import Foundation
import Hummingbird
import ServiceKit

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
        emailId = try c.decode(.emailId, alias: .email)
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
        emailId = try c.decode(.emailId, alias: .email)
        password = try c.decode(String.self, forKey: .password)
    }
}

/// `POST /refresh` and `POST /logout`: the refresh token in the body (`refresh_token` or
/// `refreshToken`) for Bearer clients; cookie clients send no body.
struct RefreshRequest: Decodable {
    let refreshToken: String?

    enum CodingKeys: String, CodingKey { case refresh_token, refreshToken }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        refreshToken = try c.decodeIfPresent(.refresh_token, alias: .refreshToken)
    }
}

/// `PATCH /changePassword`. `currentPassword` is accepted for `oldPassword`.
struct ChangePasswordRequest: Decodable {
    let oldPassword: String
    let newPassword: String

    enum CodingKeys: String, CodingKey { case oldPassword, currentPassword, newPassword }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        oldPassword = try c.decode(.oldPassword, alias: .currentPassword)
        newPassword = try c.decode(String.self, forKey: .newPassword)
    }
}

/// The reference system's envelope, with the tokens in the body too for Bearer clients.
struct SessionResponse: ResponseEncodable {
    let message: String
    let data: PublicUser
    let access_token: String
    let token_type = "Bearer"
    let expires_in: Int
    let refresh_token: String
}
