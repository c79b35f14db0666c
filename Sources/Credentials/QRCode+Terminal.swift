extension QRCode {
    /// The symbol as terminal text, two modules per character cell with Unicode half blocks.
    ///
    /// Light modules are drawn (`█`, `▀`, `▄`) and dark ones left blank, which reads correctly on
    /// the usual dark terminal. With `ansiColors`, every line also forces white on black, so the
    /// code scans on light-themed terminals too.
    public func terminalText(ansiColors: Bool = false) -> String {
        var lines: [String] = []
        let full = fullSize
        for y in stride(from: 0, to: full, by: 2) {
            var line = ansiColors ? "\u{1B}[97;40m" : ""
            for x in 0..<full {
                let top = !isDark(x: x, y: y)
                let bottom = y + 1 < full ? !isDark(x: x, y: y + 1) : false
                switch (top, bottom) {
                case (true, true): line += "█"
                case (true, false): line += "▀"
                case (false, true): line += "▄"
                case (false, false): line += " "
                }
            }
            if ansiColors { line += "\u{1B}[0m" }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
