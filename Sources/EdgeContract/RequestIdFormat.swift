/// Which request ids a client or proxy may hand in (`X-Request-Id`): the gateway and the
/// services keep the same ones and make a new id for any other.
public enum RequestIdFormat {
    /// 1–128 characters of letters, digits, `-`, `_`, `.`: anything else could forge log lines.
    public static func isAcceptable(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 128
            && id.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F || c == 0x2E
            }
    }
}
