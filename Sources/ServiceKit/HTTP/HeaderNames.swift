import HTTPTypes

extension HTTPField.Name {
    public static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    public static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
}
