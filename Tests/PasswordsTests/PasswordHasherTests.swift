import Passwords
import Testing

@Suite struct PasswordHasherTests {
    let hasher = PasswordHasher()

    @Test func rightPasswordVerifiesAndWrongOneDoesNot() async throws {
        let encoded = try await hasher.hash("correct horse battery staple")
        #expect(try await hasher.verify("correct horse battery staple", against: encoded))
        #expect(try await !hasher.verify("correct horse battery stapler", against: encoded))
        #expect(try await !hasher.verify("", against: encoded))
    }

    @Test func hashIsAnArgon2idPHCStringWithTheRecommendedCost() async throws {
        // Long enough that random base64 (salt and hash) cannot contain it by chance ("pw" could).
        let password = "a distinctive password 1"
        let encoded = try await hasher.hash(password)
        #expect(encoded.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
        #expect(!encoded.contains(password), "the password itself is not in the string")
        #expect(!hasher.needsRehash(encoded))
        #expect(PasswordHasher(parameters: .init(memory: 8192, iterations: 1, parallelism: 1)).needsRehash(encoded))
    }

    @Test func samePasswordGetsADifferentSaltEachTime() async throws {
        let a = try await hasher.hash("same")
        let b = try await hasher.hash("same")
        #expect(a != b)
        #expect(try await hasher.verify("same", against: a))
        #expect(try await hasher.verify("same", against: b))
    }

    @Test func unicodeAndLongPasswordsWork() async throws {
        let password = "pässwörd 🔑 " + String(repeating: "x", count: 1000)
        let encoded = try await hasher.hash(password)
        #expect(try await hasher.verify(password, against: encoded))
        #expect(try await !hasher.verify(String(password.dropLast()), against: encoded))
    }

    @Test(arguments: ["", "not a hash", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$", "$argon2i$v=19$m=16,t=2,p=1$YWJjZGVmZ2g$AAAA"])
    func malformedStoredHashNeverVerifies(encoded: String) async throws {
        #expect(try await !hasher.verify("anything", against: encoded))
    }
}
