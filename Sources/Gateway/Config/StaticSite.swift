import Foundation

/// `static PREFIX { root DIR; csp "…"; }`: files the gateway serves itself, like NGINX's
/// `root` — a small browser app. Read whole at load (and reload), so a request never
/// touches the disk: only files found under the root then can be served, which also
/// rules out `..` and other paths outside it. GET and HEAD only.
public struct StaticSite: Sendable, Equatable {
    public var prefix: String
    /// The root as written (relative paths are to the configuration file).
    public var root: String
    /// The page's own Content-Security-Policy: what the app needs, instead of the API's `default-src 'none'`.
    public var contentSecurityPolicy: String?
    /// By path below the prefix (`index.html`, `js/app.js`).
    public var files: [String: File] = [:]

    public struct File: Sendable, Equatable {
        public var bytes: [UInt8]
        public var contentType: String
    }

    static let maxFiles = 500
    static let maxBytes = 32 * 1024 * 1024

    static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last.map({ $0.lowercased() }) {
        case "html": "text/html; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "json": "application/json"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        case "txt": "text/plain; charset=utf-8"
        default: "application/octet-stream"
        }
    }

    /// Every regular file under `directory` (hidden ones left out), by relative path.
    static func read(directory: URL) throws(StaticSiteError) -> [String: File] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else { throw .notADirectory }
        guard let walker = manager.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles]) else {
            throw .notADirectory
        }
        var files: [String: File] = [:]
        var total = 0
        let base = directory.standardizedFileURL.path.hasSuffix("/") ? directory.standardizedFileURL.path : directory.standardizedFileURL.path + "/"
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let full = url.standardizedFileURL.path
            guard full.hasPrefix(base) else { continue }
            let name = String(full.dropFirst(base.count))
            guard let data = try? Data(contentsOf: url) else { throw .unreadable(name) }
            total += data.count
            guard files.count < maxFiles, total <= maxBytes else { throw .tooLarge }
            files[name] = File(bytes: Array(data), contentType: contentType(of: name))
        }
        return files
    }
}

public enum StaticSiteError: Error, Equatable, CustomStringConvertible {
    case notADirectory
    case unreadable(String)
    case tooLarge

    public var description: String {
        switch self {
        case .notADirectory: "is not a directory"
        case .unreadable(let name): "\(name) cannot be read"
        case .tooLarge: "holds more than \(StaticSite.maxFiles) files or \(StaticSite.maxBytes / 1024 / 1024) MiB"
        }
    }
}
