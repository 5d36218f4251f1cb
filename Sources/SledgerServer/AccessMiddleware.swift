import Hummingbird

/// Bearer-token access: with a token file, every request but `/healthz` needs a token;
/// none or an unknown one is 401, a read token on a write route (`POST`) is 403. Without a
/// token file (loopback only) every request passes.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let tokens: AccessTokens?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let tokens, request.uri.path != "/healthz" else { return try await next(request, context) }
        let needed: AccessTokens.Role = request.method == .post ? .write : .read
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              let role = tokens.role(of: header.dropFirst("Bearer ".count)) else {
            var response = ErrorBody.response(.unauthorized, "a valid bearer token is required (Authorization: Bearer TOKEN)")
            response.headers[.wwwAuthenticate] = "Bearer realm=\"sledger\""
            return response
        }
        guard role.allows(needed) else {
            return ErrorBody.response(.forbidden, "this token may read but not write")
        }
        return try await next(request, context)
    }
}
