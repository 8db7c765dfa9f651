import Hummingbird

extension Request {
    /// Decodes the JSON body (up to the context's size limit). Unlike `decode(as:context:)`,
    /// decoding errors reach `ErrorMiddleware` as they are, which answers with the field at
    /// fault and a stable code (`missing_field`, `invalid_field`) and never echoes the input.
    public func decodeBody<T: Decodable>(as type: T.Type, context: some RequestContext) async throws -> T {
        try await context.requestDecoder.decode(type, from: self, context: context)
    }
}
