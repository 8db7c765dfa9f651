import Hummingbird
import ServiceKit

/// `POST /invite/send`. `email` is accepted for `toEmail`.
struct SendInviteRequest: Decodable {
    let toEmail: String
    let message: String?

    enum CodingKeys: String, CodingKey { case toEmail, email, message }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        toEmail = try c.decode(.toEmail, alias: .email)
        message = try c.decodeIfPresent(String.self, forKey: .message)
    }
}

/// `PATCH /respond/:requestId`: `accepted` or `rejected` (`accept`, `reject` too).
struct RespondRequest: Decodable {
    let status: String
}
