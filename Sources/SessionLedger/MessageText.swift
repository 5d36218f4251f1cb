/// Text from an input (a key name, a duration) made fit for a one-line error message.
///
/// Every character that could break the line or the terminal is written as `\uXXXX`: C0
/// controls, DEL, C1 controls (U+0080-U+009F) and the line and paragraph separators
/// (U+2028, U+2029). The result is cut to `limit` bytes.
enum MessageText {
    static func escape(_ text: String, limit: Int = 64, quotes: Bool = false, ellipsis: Bool = false) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            let v = scalar.value
            let piece: String
            if v < 0x20 || (0x7F...0x9F).contains(v) || v == 0x2028 || v == 0x2029 {
                piece = "\\u" + String(v, radix: 16).leftPadded(to: 4)
            } else if quotes && (scalar == "\"" || scalar == "\\") {
                piece = "\\" + String(scalar)
            } else {
                piece = String(scalar)
            }
            count += piece.utf8.count
            if count > limit { return ellipsis ? out + "..." : out }
            out += piece
        }
        return out
    }
}
