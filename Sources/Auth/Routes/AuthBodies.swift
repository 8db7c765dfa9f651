import Foundation
import Hummingbird
import JWTKit

/// `POST /signup` (alias `/register`). `email` is accepted for `emailId`.
struct SignupRequest: Decodable {
    let firstName: String
    let lastName: String
    let emailId: String
    let password: String

    enum CodingKeys: String, CodingKey { case firstName, lastName, emailId, email, password }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        firstName = try c.decode(String.self, forKey: .firstName)
        lastName = try c.decode(String.self, forKey: .lastName)
        emailId = try c.decodeIfPresent(String.self, forKey: .emailId) ?? c.decode(String.self, forKey: .email)
        password = try c.decode(String.self, forKey: .password)
    }
}

/// `POST /login`. `email` is accepted for `emailId`.
struct LoginRequest: Decodable {
    let emailId: String
    let password: String

    enum CodingKeys: String, CodingKey { case emailId, email, password }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        emailId = try c.decodeIfPresent(String.self, forKey: .emailId) ?? c.decode(String.self, forKey: .email)
        password = try c.decode(String.self, forKey: .password)
    }
}

/// The reference system's envelope, with the token in the body too for Bearer clients.
struct SessionResponse: ResponseEncodable {
    let message: String
    let data: PublicUser
    let access_token: String
    let token_type = "Bearer"
    let expires_in: Int
}

struct UserResponse: ResponseEncodable {
    let message: String
    let data: PublicUser
}
