// Errors as the OpenAI API answers them: an HTTP status and a body {"error": {message, type, param, code}}, so
// clients (the official SDKs, vLLM's clients, eval's HttpGenerator) read them the way they read OpenAI's.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = status === 401 ? 'authentication_error' : status >= 500 ? 'server_error' : 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** A bad parameter: 400, naming it. */
export function invalid(param: string | null, message: string, code: string | null = null): ApiError {
  return new ApiError(400, message, 'invalid_request_error', param, code);
}

/** What a request was cancelled with when the server shut down before it finished. */
export class ShutdownError extends ApiError {
  constructor() {
    super(503, 'the server is shutting down; the request was cancelled before it finished', 'server_error', null, 'shutting_down');
  }
}
