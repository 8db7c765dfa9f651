import Foundation
import Gateway
import Logging
import Testing
import TestSupport

/// TLS termination with a certificate authority and certificates made for the test, and
/// real TLS clients: curl and Python's ssl.
@Suite struct GatewayTLSTests {
    /// The gateway on two ports of its own (plain, TLS) with `text`'s TLS settings; with
    /// `configPath`, read as that file (relative paths beside it, and what SIGHUP reads again).
    static func withTLSGateway(_ text: String, configPath: String? = nil, _ body: (GatewayServer, _ plain: Int, _ tls: Int) async throws -> Void) async throws {
        var config = try GatewayConfig.parse(text, file: configPath ?? "gateway.conf")
        config.listen = .init(host: "127.0.0.1", port: 0)
        if config.tls?.listen.port == 1 { config.tls?.listen.port = 0 }  // `listen 127.0.0.1:1 ssl;`: a port of its own
        config.accessLog = false
        let gateway = GatewayServer(config: config, configPath: configPath, logger: Logger(label: "gateway-tls-test"))
        let listeners = try await gateway.start()
        do {
            try await body(gateway, listeners.plain.localAddress!.port!, listeners.tls!.localAddress!.port!)
        } catch {
            try? await listeners.close()
            throw error
        }
        try await listeners.close()
    }

    static func python(_ arguments: [String]) async throws -> [String: Any] {
        let run = try await PythonRun("Tests/TestSupport/Scripts/tls_client.py", arguments)
        try #require(run.status == 0, "\(run.output)")
        return try #require(run.report, "\(run.output)")
    }

    /// curl's exit code and what it printed (`-w` output, or its error).
    static func curl(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let status = await (try ChildProcess(["/usr/bin/curl", "-sS", "--max-time", "20"] + arguments, outputPath: file)).wait()
        return (status, (try? String(contentsOfFile: file, encoding: .utf8)) ?? "")
    }

    @Test func servesTheCertificateTheClientNamesWithHSTSOverTLS12And13Only() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let a = try await Upstream.start("a")
        try await Self.withTLSGateway("""
            listen 127.0.0.1:1 ssl;
            ssl_certificate \(certificates.certificate("localhost")) \(certificates.key("localhost"));
            ssl_certificate \(certificates.certificate("api")) \(certificates.key("api")) api.test *.api.test;
            route / { upstream 127.0.0.1:\(a.port); }
            """) { _, plain, tls in
            let ca = certificates.authority
            for (name, expected) in [("localhost", "localhost"), ("api.test", "api"), ("v2.api.test", "api")] {
                let seen = try await Self.python(["\(tls)", name, ca, "get", "/x"])
                #expect(seen["status"] as? Int == 200 && seen["serial"] as? String == certificates.serials[expected], "\(name): \(seen)")
                #expect(seen["version"] as? String == "TLSv1.3")
                let headers = seen["headers"] as? [String: String] ?? [:]
                #expect(headers["strict-transport-security"] == "max-age=63072000" && headers["x-request-id"] != nil, "\(headers)")
                let reached = (try? JSONSerialization.jsonObject(with: Data((seen["body"] as? String ?? "").utf8)) as? [String: Any]) ?? [:]
                #expect((reached["headers"] as? [String: String])?["x-forwarded-proto"] == "https", "the service learns the client used TLS")
            }
            // A name no certificate covers gets the default one, which the client refuses as the wrong host.
            let wrongHost = try await Self.curl(["--cacert", ca, "--resolve", "a.b.api.test:\(tls):127.0.0.1", "-o", "/dev/null", "https://a.b.api.test:\(tls)/x"])
            #expect(wrongHost.status == 60 && wrongHost.output.contains("no alternative certificate subject name matches"), "\(wrongHost)")
            let viaCurl = try await Self.curl(["--cacert", ca, "--resolve", "api.test:\(tls):127.0.0.1", "-o", "/dev/null", "-w", "%{http_code} %{ssl_verify_result}", "https://api.test:\(tls)/x"])
            #expect(viaCurl.status == 0 && viaCurl.output == "200 0", "\(viaCurl)")
            for (version, allowed) in [("TLSv1_1", false), ("TLSv1_2", true), ("TLSv1_3", true)] {
                let handshake = try await Self.python(["\(tls)", "localhost", ca, "max-version", version])
                #expect((handshake["handshake"] as? String == "ok") == allowed, "\(version): \(handshake)")
            }
            let overPlain = try await rawHTTPGet(port: plain, path: "/x")
            #expect(overPlain.status == 200 && overPlain.headers["strict-transport-security"] == nil, "HSTS only over TLS")
        }
        await a.stop()
    }

    @Test func clientsRefuseAnExpiredCertificate() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        try await Self.withTLSGateway("""
            listen 127.0.0.1:1 ssl;
            ssl_certificate \(certificates.certificate("expired")) \(certificates.key("expired"));
            route / { upstream 127.0.0.1:1; }
            """) { _, _, tls in
            let expired = try await Self.curl(["--cacert", certificates.authority, "-o", "/dev/null", "https://localhost:\(tls)/x"])
            #expect(expired.status == 60 && expired.output.contains("expired"), "\(expired)")
            let python = try await PythonRun("Tests/TestSupport/Scripts/tls_client.py", ["\(tls)", "localhost", certificates.authority, "get", "/x"])
            #expect(python.status != 0 && python.output.contains("certificate has expired"), "\(python.output)")
        }
    }

    @Test func aReloadServesTheNewCertificateToNewConnectionsAndKeepsOpenOnes() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let a = try await Upstream.start("a")
        let directory = certificates.directory
        let certificate = directory.appendingPathComponent("served.pem").path, key = directory.appendingPathComponent("served.key").path
        func serve(_ name: String) throws {
            for (from, to) in [(certificates.certificate(name), certificate), (certificates.key(name), key)] {
                try? FileManager.default.removeItem(atPath: to)
                try FileManager.default.copyItem(atPath: from, toPath: to)
            }
        }
        try serve("localhost")
        let text = """
            listen 127.0.0.1:1 ssl;
            ssl_certificate served.pem served.key;
            route / { upstream 127.0.0.1:\(a.port); }
            """
        let configPath = directory.appendingPathComponent("gateway.conf").path
        let flag = directory.appendingPathComponent("reloaded").path
        let output = directory.appendingPathComponent("client.out").path
        var status: Int32 = -1
        try await Self.withTLSGateway(text, configPath: configPath) { gateway, _, tls in
            // The file as the gateway runs it, so the reload changes only the certificate.
            try text.replacingOccurrences(of: "127.0.0.1:1 ssl", with: "127.0.0.1:\(tls) ssl").write(toFile: configPath, atomically: true, encoding: .utf8)
            let client = try ChildProcess([TestServers.python, TestServers.repositoryRoot.appendingPathComponent("Tests/TestSupport/Scripts/tls_client.py").path,
                                           "\(tls)", "localhost", certificates.authority, "across-reload", flag, "/x"], outputPath: output)
            var ready = false
            for _ in 0..<600 where !ready {
                ready = FileManager.default.fileExists(atPath: flag + ".ready")
                if !ready { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(ready, "the client made its first request")
            try serve("renewed")
            #expect(gateway.reload())
            _ = FileManager.default.createFile(atPath: flag, contents: nil)
            status = await client.wait()  // bounded: the client waits 30 s at most, its sockets 20 s
        }
        await a.stop()
        let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        try #require(status == 0, "\(printed)")
        let seen = try #require(try JSONSerialization.jsonObject(with: Data((printed.split(separator: "\n").last ?? "").utf8)) as? [String: [String: Any]])
        #expect(seen["first"]?["serial"] as? String == certificates.serials["localhost"])
        #expect(seen["second"]?["status"] as? Int == 200 && seen["second"]?["serial"] as? String == certificates.serials["localhost"],
                "the open connection goes on with its certificate")
        #expect(seen["fresh"]?["serial"] as? String == certificates.serials["renewed"], "a new connection gets the new one")
    }

    @Test func thePlainListenerRedirectsToHTTPSButForHealth() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let a = try await Upstream.start("a")
        try await Self.withTLSGateway("""
            listen 127.0.0.1:1 ssl;
            ssl_certificate \(certificates.certificate("localhost")) \(certificates.key("localhost"));
            redirect_to_https on;
            hsts "max-age=600; includeSubDomains";
            route / { upstream 127.0.0.1:\(a.port); }
            """) { gateway, plain, tls in
            // The redirect names the configured TLS port: the one the listener got.
            var bound = gateway.runtime.config
            bound.tls?.listen.port = tls
            gateway.runtime.replace(with: bound)
            let redirected = try await rawHTTPGet(port: plain, path: "/chat/my-chats?page=2")
            #expect(redirected.status == 308 && redirected.headers["location"] == "https://127.0.0.1:\(tls)/chat/my-chats?page=2", "\(redirected.fields)")
            #expect(try await rawHTTPGet(port: plain, path: "/health").status == 200, "probes speaking plain HTTP still get an answer")
            let forged = try await rawExchange(port: plain, Array("GET /x HTTP/1.1\r\nHost: evil.example/path\r\nConnection: close\r\n\r\n".utf8))
            #expect(forged.status == 400, "a Host that is no host name is not echoed into a Location")
            let followed = try await Self.curl(["--cacert", certificates.authority, "-L", "-D", "-", "-o", "/dev/null", "http://localhost:\(plain)/x"])
            #expect(followed.status == 0 && followed.output.lowercased().contains("strict-transport-security: max-age=600; includesubdomains"), "\(followed.output)")
        }
        #expect(a.requests.load(ordering: .relaxed) == 1, "only the request that came over TLS reached the service")
        await a.stop()
    }
}
