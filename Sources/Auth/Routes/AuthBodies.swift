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

/// The reference system's envelope (its login answers `data: {id, emailId, token}`), with
/// the tokens at the top too for Bearer clients.
struct SessionResponse: ResponseEncodable {
    let message: String
    let data: SessionUser
    let access_token: String
    let token_type = "Bearer"
    let expires_in: Int
    let refresh_token: String
}

/// The user, and the access token where the reference's clients read it.
struct SessionUser: Encodable {
    let user: PublicUser
    let token: String

    enum CodingKeys: String, CodingKey { case token }

    func encode(to encoder: any Encoder) throws {
        try user.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(token, forKey: .token)
    }
}

/// `GET /getUserByEmail`: the reference answers a top-level `userId`; `data` is ours.
struct UserByEmailResponse: ResponseEncodable {
    let message: String
    let userId: String
    let data: PublicUser
}
