/// Which reactions a `react` frame may carry: any one emoji, as one grapheme (👍, ❤️, 👨‍👩‍👧,
/// 🇳🇴, 👍🏽), never text.
enum Reactions {
    /// The longest reaction, in UTF-8 bytes (a family emoji with skin tones is about 35).
    static let maxBytes = 64

    static func isAllowed(_ text: String) -> Bool {
        guard text.count == 1, text.utf8.count <= maxBytes, let first = text.unicodeScalars.first else { return false }
        let properties = first.properties
        // An emoji shown as one (😀), one made so by a variation selector (❤️), or a flag.
        if properties.isEmojiPresentation { return true }
        if properties.isEmoji, text.unicodeScalars.count > 1 { return first.value > 0x7F }
        return (0x1F1E6...0x1F1FF).contains(first.value)
    }
}
