import HTTPTypes

extension HTTPField.Name {
    public static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    public static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
}

extension HTTPField.Name {
    /// Paging of bare arrays (the chat service's history): the next page's cursor, and whether there is one.
    public static let xNextCursor = HTTPField.Name("X-Next-Cursor")!
    public static let xHasMore = HTTPField.Name("X-Has-More")!
    public static let link = HTTPField.Name("Link")!
}
