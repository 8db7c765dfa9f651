import Hummingbird

extension Request {
    /// Decodes the JSON body (up to the context's size limit). Unlike `decode(as:context:)`,
    /// decoding errors reach `ErrorMiddleware` as they are, which answers with the field at
    /// fault and a stable code (`missing_field`, `invalid_field`) and never echoes the input.
    public func decodeBody<T: Decodable>(as type: T.Type, context: some RequestContext) async throws -> T {
        try await context.requestDecoder.decode(type, from: self, context: context)
    }
}

extension Request {
    /// Like `decodeBody`, but nil for an empty body (clients that send only cookies).
    public func decodeBodyIfPresent<T: Decodable>(as type: T.Type, context: some RequestContext) async throws -> T? {
        var request = self
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { return nil }
        return try await request.decodeBody(as: type, context: context)
    }
}
