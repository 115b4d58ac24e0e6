# Two commands do everything on a fresh clone: `make demo` and `make test`. Both install what they need.
SHELL := /bin/bash
NPM_STAMP := node_modules/.package-lock.json

.PHONY: all build typecheck lint test demo demo-clean bench clean

all: build

$(NPM_STAMP): package.json package-lock.json
	npm ci
	@touch $@

build: $(NPM_STAMP)
	npm run --silent build

typecheck: $(NPM_STAMP)
	npm run --silent typecheck

lint: $(NPM_STAMP)
	npm run --silent lint

test: build typecheck lint
	npm test

# The recipe from a crawl to GRPO on generated fixtures (fixtures/demo.mk: one target per stage, so a re-run
# reuses finished stages); outputs and plots in fixtures/out/demo.
demo: build
	@$(MAKE) --no-print-directory -f fixtures/demo.mk

demo-clean:
	rm -rf fixtures/out/demo

bench: build
	@for b in bench/*/run.sh; do echo "== $$b"; bash "$$b" || exit 1; done

clean:
	rm -rf dist bench/out fixtures/out
