import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A process started by a test with posix_spawn. Foundation's Process can hang
/// waiting for a child that started a daemon of its own, and children must not
/// inherit the test thread's blocked signals (they would ignore SIGTERM).
public struct ChildProcess: Sendable {
    public let pid: pid_t

    /// Starts `argv` with `environment` added to this process's, its output appended to `outputPath`.
    public init(_ argv: [String], environment: [String: String] = [:], outputPath: String? = nil) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let outputPath {
            posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        // The child gets standard input, output and error, nothing else: a socket a test held
        // when it spawned would stay open in the child after the test closed it, and its
        // server would see the connection end only when the child does.
        _ = Self.closeFrom?(&actions, 3)

        let merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        var env: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        var args: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer {
            env.forEach { free($0) }
            args.forEach { free($0) }
        }
        var pid = pid_t()
        let rc = posix_spawn(&pid, argv[0], &actions, &attributes, &args, &env)
        guard rc == 0 else { throw ServerControlError(arguments: argv, status: rc) }
        self.pid = pid
    }

    public func signal(_ signal: Int32) { kill(pid, signal) }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which its Swift module does not show.
    private static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? =
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np").map { unsafeBitCast($0, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self) }

    /// The exit code, or 128 + the signal that ended it; waits on a thread of its own.
    public func wait() async -> Int32 {
        let pid = self.pid
        return (try? await onOwnThread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let signal = status & 0x7F
            return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
        }) ?? -1
    }
}

/// One HTTP/1.1 request over a plain socket, answered with the status, headers and body:
/// enough for end-to-end tests, with nothing between the test and the server.
public struct RawHTTPResponse: Sendable {
    public let status: Int
    /// By lowercased name; the last value of a repeated field.
    public let headers: [String: String]
    public let body: String
    /// Every field in order, repeated ones (Set-Cookie) included.
    public var fields: [(name: String, value: String)] = []

    public func values(_ name: String) -> [String] { fields.filter { $0.name == name.lowercased() }.map(\.value) }
}

public func rawHTTPGet(port: Int, path: String, headers: [String: String] = [:]) async throws -> RawHTTPResponse {
    try await rawHTTP("GET", port: port, path: path, headers: headers)
}

public func rawHTTP(_ method: String, port: Int, path: String, headers: [String: String] = [:], body: String = "") async throws -> RawHTTPResponse {
    var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n"
    for (name, value) in headers { request += "\(name): \(value)\r\n" }
    return try await rawExchange(port: port, Array((request + "\r\n" + body).utf8))
}

/// Sends `bytes` as they are (well-formed or not) and reads until the server closes.
public func rawExchange(port: Int, _ bytes: [UInt8]) async throws -> RawHTTPResponse {
    let data = try await onOwnThread { () throws -> [UInt8] in
        let fd = try connectLoopback(port: port, receiveTimeoutSeconds: 60)
        defer { close(fd) }
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            sent += n
        }
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        return data
    }
    let text = String(decoding: data, as: UTF8.self)
    let parts = text.components(separatedBy: "\r\n\r\n")
    let head = parts[0].components(separatedBy: "\r\n")
    let status = Int(head.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
    var fields = [String: String]()
    var all: [(name: String, value: String)] = []
    for line in head.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        let (name, value) = (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        fields[name] = value
        all.append((name, value))
    }
    return RawHTTPResponse(status: status, headers: fields, body: parts.dropFirst().joined(separator: "\r\n\r\n"), fields: all)
}

/// Runs blocking work (a socket read, a wait for a child) on a thread of its own: on the
/// cooperative pool — two threads on a two-core machine — it would stall every other test,
/// and the servers they run in this process, until it returned.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Blocking work started on a thread of its own at once, its result awaited later. What
/// it measures (when a socket closed, say) is taken on that thread, so it does not wait
/// for a turn on a busy cooperative pool the way an `async let` child task would.
public final class ThreadWork<T: Sendable>: Sendable {
    private enum State {
        case running
        case waiting(CheckedContinuation<T, any Error>)
        case done(Result<T, any Error>)
    }
    private let state = Mutex(State.running)

    public init(_ body: @escaping @Sendable () throws -> T) {
        Thread { [self] in
            let result = Result { try body() }
            let waiter = state.withLock { state -> CheckedContinuation<T, any Error>? in
                defer { state = .done(result) }
                if case .waiting(let continuation) = state { return continuation }
                return nil
            }
            waiter?.resume(with: result)
        }.start()
    }

    public var value: T {
        get async throws {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let result = state.withLock { state -> Result<T, any Error>? in
                    if case .done(let result) = state { return result }
                    state = .waiting(continuation)
                    return nil
                }
                if let result { continuation.resume(with: result) }
            }
        }
    }
}

/// A blocking TCP socket connected to 127.0.0.1:`port`; reads give up after the timeout,
/// so a server that never answers fails a test instead of hanging it. The caller closes it.
public func connectLoopback(port: Int, receiveTimeoutSeconds: Int) throws -> Int32 {
    // Close-on-exec: a child spawned meanwhile must not keep the connection open.
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        throw POSIXError(.ECONNREFUSED)
    }
    return fd
}

/// A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick), for a server a
/// test is about to start: a random number could be a test server's own port.
public func freeLoopbackPort() throws -> Int {
    // Close-on-exec: a child spawned meanwhile must not keep the connection open.
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
}
