import Foundation

/// Reads a password from a file (`-` for stdin), a no-echo prompt, or piped stdin; never from argv.
enum PasswordInput {
    /// The password from `file`, else prompted for twice on a terminal, else one line of stdin.
    static func read(file: String?, prompt: String, confirm: Bool = true) throws -> String {
        if let file {
            let text: String
            if file == "-" {
                text = readLine(strippingNewline: true) ?? ""
            } else {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw CLIError("Cannot read the password file \(file).")
                }
                guard let string = String(data: data, encoding: .utf8) else {
                    throw CLIError("The password file \(file) is not UTF-8 text.")
                }
                text = string
            }
            let password = firstLine(text)
            guard !password.isEmpty else { throw CLIError("The password file \(file) is empty.") }
            return password
        }
        guard isatty(STDIN_FILENO) == 1 else {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw CLIError("No password given: use --password-file FILE, or run in a terminal to be asked.")
            }
            return line
        }
        let first = try promptHidden("\(prompt): ")
        guard confirm else { return first }
        let second = try promptHidden("Repeat it: ")
        guard first == second else { throw CLIError("The two passwords differ; nothing was changed.") }
        return first
    }

    /// The first line of a file's text, without its line ending.
    static func firstLine(_ text: String) -> String {
        String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
    }

    /// Prompts on stderr and reads a line from the terminal with echo off.
    static func promptHidden(_ prompt: String) throws -> String {
        FileHandle.standardError.write(Data(prompt.utf8))
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { throw CLIError("Cannot read from the terminal.") }
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        return readLine(strippingNewline: true) ?? ""
    }
}
