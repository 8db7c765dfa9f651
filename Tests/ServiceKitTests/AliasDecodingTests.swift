import Foundation
import ServiceKit
import Testing

/// A field accepted under two names (the reference system's and another design's): a wrong
/// type under either is refused, even when the other name holds a good value (pure logic).
@Suite struct AliasDecodingTests {
    struct Login: Decodable {
        let email: String
        let token: String?
        enum CodingKeys: String, CodingKey { case emailId, email, refresh_token, refreshToken }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            email = try c.decode(.emailId, alias: .email)
            token = try c.decodeIfPresent(.refresh_token, alias: .refreshToken)
        }
    }

    func decode(_ json: String) throws -> Login { try JSONDecoder().decode(Login.self, from: Data(json.utf8)) }

    @Test func eitherNameIsRead() throws {
        #expect(try decode(#"{"emailId": "a@x.io"}"#).email == "a@x.io")
        #expect(try decode(#"{"email": "b@x.io", "refreshToken": "t"}"#).token == "t")
        #expect(try decode(#"{"emailId": "a@x.io", "email": "b@x.io"}"#).email == "a@x.io", "the reference system's name wins")
    }

    @Test func aWrongTypeUnderEitherNameIsRefused() {
        #expect(throws: DecodingError.self) { try decode(#"{"emailId": "a@x.io", "email": {"$ne": null}}"#) }
        #expect(throws: DecodingError.self) { try decode(#"{"emailId": {"$ne": null}, "email": "b@x.io"}"#) }
        #expect(throws: DecodingError.self) { try decode(#"{"emailId": "a@x.io", "refresh_token": "t", "refreshToken": {"$gt": ""}}"#) }
        #expect(throws: DecodingError.self) { try decode(#"{}"#) }
    }
}
