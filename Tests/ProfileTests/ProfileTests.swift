import BSON
import Foundation
import Hummingbird
import HummingbirdTesting
import Mongo
import Profile
import ServiceTestSupport
import TestSupport
import Testing

/// The profile service through its HTTP API, fed by auth's real events.
@Suite struct ProfileTests {
    @Test func signupMakesAProfileByEventAlone() async throws {
        try await Stack.run { stack in
            let ada = try await stack.user("Ada")
            try await stack.profile.execute(uri: "/getProfile", method: .get, headers: ada.bearer) { response in
                #expect(response.status == .ok)
                let data = jsonObject(response)["data"] as? [String: Any]
                #expect(data?["userId"] as? String == ada.id && data?["firstName"] as? String == "Ada" && data?["lastName"] as? String == "Tester")
                #expect(data?["about"] as? String == "" && data?["profilePic"] is NSNull && data?["age"] is NSNull && data?["gender"] is NSNull)
            }
            let bob = try await stack.user("Bob")
            try await stack.profile.execute(uri: "/\(ada.id)", method: .get, headers: bob.bearer) { response in
                #expect(response.status == .ok, "any signed-in user reads any profile")
                #expect((jsonObject(response)["data"] as? [String: Any])?["userId"] as? String == ada.id)
            }
        }
    }

    @Test func editsShowAtOnceThroughTheCache() async throws {
        try await Stack.run { stack in
            let ada = try await stack.user("Ada")
            // Read once so the profile is cached, then change it.
            try await stack.profile.execute(uri: "/getProfile", method: .get, headers: ada.bearer) { #expect($0.status == .ok) }
            let cached = try await RedisProbe.exists("profile:v2:\(ada.id)")
            #expect(cached)
            try await stack.profile.execute(uri: "/patchProfile", method: .put, headers: ada.json,
                                            body: json(["firstName": " Augusta ", "about": "Analyst", "age": 36, "gender": "Female", "$set": ["role": "admin"]])) { response in
                #expect(response.status == .ok)
                let data = jsonObject(response)["data"] as? [String: Any]
                #expect(data?["firstName"] as? String == "Augusta" && data?["age"] as? Int == 36 && data?["gender"] as? String == "female")
            }
            for uri in ["/getProfile", "/\(ada.id)"] {
                try await stack.profile.execute(uri: uri, method: .get, headers: ada.bearer) { response in
                    let data = jsonObject(response)["data"] as? [String: Any]
                    #expect(data?["firstName"] as? String == "Augusta" && data?["about"] as? String == "Analyst", "\(uri)")
                }
            }
            // null clears; unknown fields (even operator-looking ones) change nothing.
            try await stack.profile.execute(uri: "/patchProfile", method: .patch, headers: ada.json, body: json(["age": NSNull()])) { response in
                #expect((jsonObject(response)["data"] as? [String: Any])?["age"] is NSNull)
            }
            let stored = try #require(try await stack.profileDB.collection("profiles", of: BSONDocument.self).findOne(.eq("_id", ada.id)))
            #expect(stored["age"] == nil && stored["role"] == nil && stored["$set"] == nil)
        }
    }

    /// What a client of the reference sends: every field, `age` as a form's string,
    /// `profilePic` as a data URL or a link; and `/profile/profile/:userId`, its path.
    @Test func theReferencesPatchesAreUnderstood() async throws {
        try await Stack.run { stack in
            let ada = try await stack.user("Ada")
            let png = ImageBytes.png(size: 3000)
            let dataURL = "data:image/png;base64," + Data(png).base64EncodedString()
            let body: [String: Any] = ["firstName": "Ada", "lastName": "Lovelace", "about": String(repeating: "a", count: 750), "age": "36",
                                       "gender": "Female", "profilePic": dataURL]
            let saved = try await stack.profile.execute(uri: "/patchProfile", method: .put, headers: ada.json, body: json(body)) { response in
                (outcome(response), jsonObject(response)["data"] as? [String: Any] ?? [:])
            }
            #expect(saved.0 == "200" && saved.1["age"] as? Int == 36 && (saved.1["about"] as? String)?.count == 750)
            let pictureURL = try #require(saved.1["profilePic"] as? String)
            #expect(pictureURL.hasPrefix("/profile/picture/\(ada.id)"), "the data URL is stored like an uploaded picture: \(pictureURL)")
            try await stack.profile.execute(uri: "/picture/\(ada.id)", method: .get, headers: ada.bearer) { response in
                #expect(response.status == .ok && Array(response.body.readableBytesView) == png && response.headers[.contentType] == "image/png")
            }
            let pictures = stack.profileDB.collection("pictures.files", of: BSONDocument.self)
            #expect(try await pictures.count() == 1)

            // A link is kept as the picture (never fetched here); the stored picture goes.
            let link = "https://images.example.com/ada/portrait.JPG?size=large"
            try await stack.profile.execute(uri: "/patchProfile", method: .put, headers: ada.json, body: json(["profilePic": link])) { response in
                #expect(outcome(response) == "200" && (jsonObject(response)["data"] as? [String: Any])?["profilePic"] as? String == link)
            }
            #expect(await eventually(timeout: .seconds(10)) { try await pictures.count() == 0 }, "the replaced picture is removed")
            try await stack.profile.execute(uri: "/profile/\(ada.id)", method: .get, headers: ada.bearer) { response in
                #expect(outcome(response) == "200" && (jsonObject(response)["data"] as? [String: Any])?["profilePic"] as? String == link,
                        "the reference's path, /profile/profile/:userId through the gateway")
            }
            try await stack.profile.execute(uri: "/patchProfile", method: .put, headers: ada.json, body: json(["profilePic": NSNull()])) { response in
                #expect((jsonObject(response)["data"] as? [String: Any])?["profilePic"] is NSNull, "null: no picture")
            }
        }
    }

    /// A save right after signup can come before `auth.user.created`: the profile is made
    /// then, and the late event fills in only what the user left empty.
    @Test func aSaveBeforeTheAccountsEventIsKept() async throws {
        try await Stack.run { stack in
            let ada = try await stack.user("Ada")
            let profiles = stack.profileDB.collection("profiles", of: BSONDocument.self)
            // As if the event had not arrived yet.
            _ = try await profiles.deleteOne(.eq("_id", ada.id))
            try await stack.profile.execute(uri: "/patchProfile", method: .put, headers: ada.json, body: json(["about": "Mine", "lastName": "L."])) { response in
                let data = jsonObject(response)["data"] as? [String: Any]
                #expect(outcome(response) == "200" && data?["about"] as? String == "Mine" && data?["lastName"] as? String == "L.", "saved, not 404")
            }
            // The event now arrives: what its handler writes.
            let repository = MongoProfileRepository(database: stack.profileDB)
            try await repository.createFromAccount(userId: ada.id, firstName: "Ada", lastName: "Tester", at: Date(), session: nil)
            let stored = try #require(try await profiles.findOne(.eq("_id", ada.id)))
            #expect(stored["about"] == .string("Mine") && stored["lastName"] == .string("L.") && stored["firstName"] == .string("Ada"),
                    "what the user saved stays; the empty first name is filled: \(stored)")
        }
    }

    @Test func picturesAreSniffedStoredReplacedAndServed() async throws {
        try await Stack.run { stack in
            let ada = try await stack.user("Ada")
            let bob = try await stack.user("Bob")
            let png = ImageBytes.png(size: 300_000)
            let form = MultipartBody().field("about", "with a picture").file("profilePic", filename: "me.png", type: "image/png", png)
            let url = try await stack.profile.execute(uri: "/patchProfile", method: .put, headers: form.headers(ada.bearer), body: form.body) { response in
                #expect(response.status == .ok)
                let data = jsonObject(response)["data"] as? [String: Any]
                #expect(data?["about"] as? String == "with a picture")
                return data?["profilePic"] as? String ?? ""
            }
            #expect(url.hasPrefix("/profile/picture/\(ada.id)?v="))
            let etag = try await stack.profile.execute(uri: "/picture/\(ada.id)", method: .get, headers: bob.bearer) { response in
                #expect(response.status == .ok && response.headers[.contentType] == "image/png")
                #expect(Array(response.body.readableBytesView) == png)
                #expect(response.headers[.cacheControl]?.contains("max-age") == true)
                return response.headers[.eTag] ?? ""
            }
            var revalidate = bob.bearer
            revalidate[.ifNoneMatch] = etag
            try await stack.profile.execute(uri: "/picture/\(ada.id)", method: .get, headers: revalidate) { #expect($0.status == .notModified) }

            // A new picture replaces the old one: one file left, a new ETag.
            let jpeg = ImageBytes.jpeg()
            let again = MultipartBody().file("profilePic", filename: "new.jpg", type: "image/jpeg", jpeg)
            try await stack.profile.execute(uri: "/patchProfile", method: .put, headers: again.headers(ada.bearer), body: again.body) { #expect($0.status == .ok) }
            try await stack.profile.execute(uri: "/picture/\(ada.id)", method: .get, headers: revalidate) { response in
                #expect(response.status == .ok && response.headers[.contentType] == "image/jpeg" && response.headers[.eTag] != etag)
            }
            #expect(try await stack.profileDB.collection("pictures.files", of: BSONDocument.self).count() == 1)

            // Not an image (whatever its name says), too large: refused, nothing stored.
            let fake = MultipartBody().file("profilePic", filename: "cat.png", type: "image/png", Array("<?php echo 'hi'; ?>".utf8))
            try await stack.profile.execute(uri: "/patchProfile", method: .put, headers: fake.headers(ada.bearer), body: fake.body) {
                #expect(outcome($0) == "415 unsupported_media_type")
            }
            let huge = MultipartBody().file("profilePic", filename: "big.png", type: "image/png", ImageBytes.png(size: 5 * 1024 * 1024 + 1))
            try await stack.profile.execute(uri: "/patchProfile", method: .put, headers: huge.headers(ada.bearer), body: huge.body) {
                #expect(outcome($0) == "413 payload_too_large")
            }
            let webp = MultipartBody().field("age", "abc").file("profilePic", filename: "x.webp", type: "image/webp", ImageBytes.webp())
            try await stack.profile.execute(uri: "/patchProfile", method: .put, headers: webp.headers(ada.bearer), body: webp.body) {
                #expect(outcome($0) == "400 invalid_age", "a bad field refuses the whole update")
            }
            #expect(try await stack.profileDB.collection("pictures.files", of: BSONDocument.self).count() == 1)
            try await stack.profile.execute(uri: "/picture/\(bob.id)", method: .get, headers: ada.bearer) { #expect(outcome($0) == "404 not_found") }
        }
    }

    @Test func thePeoplePickerSearchesByNameAndPages() async throws {
        try await Stack.run { stack in
            // Other tests' users arrive here too (their events share the exchange): a name tag keeps ours apart.
            let tag = "Zz" + String((0..<6).map { _ in "abcdefghijklmnopqrstuvwxyz".randomElement()! })
            let me = try await stack.user("\(tag)me")
            for name in ["alma", "alvaro", "bea"] { _ = try await stack.user(tag + name) }
            try await stack.profile.execute(uri: "/list?search=\(tag)al&limit=1", method: .get, headers: me.bearer) { response in
                let body = jsonObject(response)
                let names = (body["data"] as? [[String: Any]])?.compactMap { $0["firstName"] as? String }
                #expect(names == ["\(tag)alma"] && body["total"] as? Int == 2 && body["hasMore"] as? Bool == true)
            }
            try await stack.profile.execute(uri: "/list?search=\(tag.uppercased())AL&limit=1&page=2", method: .get, headers: me.bearer) { response in
                #expect((jsonObject(response)["data"] as? [[String: Any]])?.first?["firstName"] as? String == "\(tag)alvaro", "case does not matter")
            }
            try await stack.profile.execute(uri: "/list?search=\(tag)", method: .get, headers: me.bearer) { response in
                let names = (jsonObject(response)["data"] as? [[String: Any]])?.compactMap { $0["firstName"] as? String }
                #expect(names == ["alma", "alvaro", "bea"].map { tag + $0 }, "everyone but the caller, by name")
            }
            // Regex characters are literal, not a pattern.
            try await stack.profile.execute(uri: "/list?search=.*", method: .get, headers: me.bearer) { response in
                #expect((jsonObject(response)["data"] as? [Any])?.isEmpty == true)
            }
            for bad in ["/list?page=0", "/list?limit=500", "/list?limit=x", "/list?search=" + String(repeating: "a", count: 51),
                        "/list?search=" + String(repeating: "e%CC%81", count: 26), "/list?search=%20" + String(repeating: "a", count: 50)] {
                try await stack.profile.execute(uri: bad, method: .get, headers: me.bearer) { #expect($0.status == .badRequest, "\(bad)") }
            }
        }
    }

    @Test func badInputIsRefusedAndChangesNothing() async throws {
        try await Stack.run { stack in
            let ada = try await stack.user("Ada")
            let cases: [(Any, String)] = [
                (["firstName": 5], "400 invalid_field"),
                (["firstName": ["$ne": ""]], "400 invalid_field"),
                (["age": "thirty"], "400 invalid_age"),
                (["age": "7"], "400 invalid_age"),
                (["age": 7], "400 invalid_age"),
                (["age": ["$gt": 0]], "400 invalid_age"),
                (["gender": "robot"], "400 invalid_gender"),
                (["lastName": String(repeating: "x", count: 51)], "400 invalid_lastName"),
                (["about": String(repeating: "x", count: 751)], "400 invalid_about"),
                (["profilePic": "just words"], "400 invalid_picture"),
                (["profilePic": "ftp://example.com/a.png"], "400 invalid_picture"),
                (["profilePic": "https://example.com/picture"], "400 invalid_picture"),
                (["profilePic": "https://example.com/a b.png"], "400 invalid_picture"),
                (["profilePic": "https://exa\u{0E}mple.com/a.png"], "400 invalid_picture"),
                (["profilePic": "https:///a.png"], "400 invalid_picture"),
                (["firstName": "\u{1E}"], "400 invalid_firstName"),
                (["profilePic": "https://example.com/a.png?" + String(repeating: "q", count: 2100)], "400 invalid_picture"),
                (["profilePic": "data:image/gif;base64,R0lGODlh"], "415 unsupported_media_type"),
                (["profilePic": "data:image/png;base64,bm90IGFuIGltYWdl"], "415 unsupported_media_type"),
                (["profilePic": "data:image/png;base64,@@@@"], "400 invalid_picture"),
                (["profilePic": ["$ne": ""]], "400 invalid_field"),
                ([String: Any](), "400 empty_update"),
                ([1, 2], "400 invalid_body"),
            ]
            for (body, expected) in cases {
                try await stack.profile.execute(uri: "/patchProfile", method: .put, headers: ada.json, body: json(body)) {
                    #expect(outcome($0) == expected, "\(body)")
                }
            }
            // A link as the schema allows it (any case in scheme and extension, a query) is kept as sent.
            let link = "HTTPS://cdn.example.com/p/Ada.JPEG?v=2"
            try await stack.profile.execute(uri: "/patchProfile", method: .put, headers: ada.json, body: json(["profilePic": link])) {
                #expect($0.status == .ok && String(buffer: $0.body).contains("cdn.example.com\\/p\\/Ada.JPEG?v=2"), "\(String(buffer: $0.body))")
            }
            // Room for a 5 MB picture as a data URL, and no more.
            let eightMB = ByteBuffer(string: #"{"about":""# + String(repeating: "a", count: 8 * 1024 * 1024) + #""}"#)
            try await stack.profile.execute(uri: "/patchProfile", method: .put, headers: ada.json, body: eightMB) { #expect(outcome($0) == "413 payload_too_large") }
            var text = ada.bearer
            text[.contentType] = "text/plain"
            try await stack.profile.execute(uri: "/patchProfile", method: .put, headers: text, body: ByteBuffer(string: "age=3")) {
                #expect(outcome($0) == "415 unsupported_media_type")
            }
            var broken = ada.bearer
            broken[.contentType] = "multipart/form-data; boundary=xyz"
            try await stack.profile.execute(uri: "/patchProfile", method: .put, headers: broken, body: ByteBuffer(string: "--xyz\r\nno headers end")) {
                #expect(outcome($0) == "400 invalid_multipart")
            }
            for uri in ["/not-an-id", "/picture/zz"] {
                try await stack.profile.execute(uri: uri, method: .get, headers: ada.bearer) { #expect(outcome($0) == "400 invalid_id", "\(uri)") }
            }
            try await stack.profile.execute(uri: "/\(ObjectId().hex)", method: .get, headers: ada.bearer) { #expect(outcome($0) == "404 not_found") }
            for (uri, method) in [("/getProfile", HTTPRequest.Method.get), ("/patchProfile", .put), ("/list", .get), ("/\(ada.id)", .get), ("/picture/\(ada.id)", .get)] {
                try await stack.profile.execute(uri: uri, method: method, headers: [.authorization: "Bearer forged.token.here"]) {
                    #expect(outcome($0) == "401 unauthorized", "\(uri)")
                }
            }
            let stored = try #require(try await stack.profileDB.collection("profiles", of: BSONDocument.self).findOne(.eq("_id", ada.id)))
            #expect(stored["firstName"] == "Ada" && stored["about"] == "" && stored["age"] == nil)
        }
    }

    /// Ids in a body or a query never point a write at someone else's profile.
    @Test func anotherUsersIdsChangeNothingOfTheirs() async throws {
        try await Stack.run { stack in
            let ada = try await stack.user("Ada")
            let bob = try await stack.user("Bob")
            try await stack.profile.execute(uri: "/patchProfile?userId=\(bob.id)", method: .put, headers: ada.json,
                                            body: json(["_id": bob.id, "userId": bob.id, "about": "written by Ada"])) { response in
                #expect((jsonObject(response)["data"] as? [String: Any])?["userId"] as? String == ada.id)
            }
            let form = MultipartBody().field("userId", bob.id).field("about", "again").file("profilePic", filename: "p.png", type: "image/png", ImageBytes.png())
            try await stack.profile.execute(uri: "/patchProfile", method: .put, headers: form.headers(ada.bearer), body: form.body) { #expect($0.status == .ok) }
            try await stack.profile.execute(uri: "/\(bob.id)", method: .put, headers: ada.json, body: json(["about": "x"])) {
                #expect($0.status == .notFound || $0.status == .methodNotAllowed, "no write route takes an id")
            }
            let bobs = try #require(try await stack.profileDB.collection("profiles", of: BSONDocument.self).findOne(.eq("_id", bob.id)))
            #expect(bobs["about"] == "" && bobs["picture"] == nil)
            try await stack.profile.execute(uri: "/picture/\(bob.id)", method: .get, headers: ada.bearer) { #expect($0.status == .notFound) }
        }
    }

    /// Account deletion reaches the profile service as `auth.user.deleted`: profile and picture go.
    @Test func aDeletedAccountTakesItsProfileAndPicture() async throws {
        try await Stack.run { stack in
            let ada = try await stack.user("Ada")
            let form = MultipartBody().file("avatar", filename: "a.png", type: "image/png", ImageBytes.png())
            try await stack.profile.execute(uri: "/patchProfile", method: .put, headers: form.headers(ada.bearer), body: form.body) { #expect($0.status == .ok) }
            try await stack.auth.execute(uri: "/me", method: .delete, headers: ada.bearer) { #expect($0.status == .ok) }
            let profiles = stack.profileDB.collection("profiles", of: BSONDocument.self)
            let files = stack.profileDB.collection("pictures.files", of: BSONDocument.self)
            let gone = await eventually {
                let profileCount = try await profiles.count(.eq("_id", ada.id))
                let fileCount = try await files.count()
                return profileCount == 0 && fileCount == 0
            }
            #expect(gone)
        }
    }
}
