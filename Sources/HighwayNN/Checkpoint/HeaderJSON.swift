// HeaderJSON: a small strict JSON parser for safetensors headers.
//
// Why not JSONSerialization: it silently keeps one of two duplicate keys (the format forbids
// duplicate tensor names, so we must see both), it loses key order and byte offsets (our errors
// name the offset), and its recursion on hostile nesting is not ours to bound. This parser keeps
// every object member in order with its file offset, limits nesting to `maxDepth`, validates UTF-8
// first, and reports the file offset of the first byte it cannot accept. It implements RFC 8259
// exactly (no comments, no trailing commas, no NaN), which is what the Rust reference accepts.
// Arrays are capped at `maxArrayLength` elements: a safetensors header only holds short arrays
// (shapes, offset pairs), and the cap keeps a 100 MB header of `[0,0,0,…]` from growing into
// gigabytes of parsed values.

/// A parsed JSON value. Objects keep every member, duplicates included, in file order.
/// (Not `indirect`: the arrays already box the recursion, and scalars stay unboxed.)
enum HeaderJSON {
    case object([HeaderJSONMember])
    case array([HeaderJSON])
    case string(String)
    /// A number written without fraction or exponent that fits in `Int`.
    case integer(Int)
    /// Any other number, kept as its text for error messages.
    case number(String)
    case bool(Bool)
    case null

    /// A short description of the value's kind and (for scalars) its text, for error messages.
    var summary: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case let .string(s): return "the string \"\(s.count > 40 ? String(s.prefix(40)) + "…" : s)\""
        case let .integer(i): return "the number \(i)"
        case let .number(t): return "the number \(t)"
        case let .bool(b): return "\(b)"
        case .null: return "null"
        }
    }
}

/// One `"key": value` of an object, with the file offsets of the key and the value.
struct HeaderJSONMember {
    let key: String
    let keyOffset: Int
    let value: HeaderJSON
    let valueOffset: Int
}

/// The first byte the parser could not accept: its file offset, what it was and what would have fitted.
struct HeaderJSONSyntaxError: Error {
    let offset: Int
    let found: String
    let expected: String
}

struct HeaderJSONParser {
    /// Deep enough for any safetensors header (which needs 3 levels), shallow enough for any stack.
    static let maxDepth = 32
    /// Far above any tensor rank, far below what would make parsing costly.
    static let maxArrayLength = 1024

    private let bytes: [UInt8]
    /// The file offset of `bytes[0]`, so errors name positions in the file.
    private let base: Int
    private var i = 0

    private init(bytes: [UInt8], base: Int) {
        self.bytes = bytes
        self.base = base
    }

    /// Parses `bytes` (the header, found at file offset `fileOffset`) as one JSON value surrounded by
    /// optional whitespace (the format pads the header with spaces).
    static func parse(_ bytes: [UInt8], fileOffset: Int) throws -> HeaderJSON {
        if let bad = firstInvalidUTF8(in: bytes) {
            throw HeaderJSONSyntaxError(offset: fileOffset + bad, found: describeByte(bytes[bad]),
                                        expected: "valid UTF-8")
        }
        var parser = HeaderJSONParser(bytes: bytes, base: fileOffset)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.i == bytes.count else { throw parser.failure(expected: "only spaces after the JSON value") }
        return value
    }

    // ---- values ---------------------------------------------------------------------------------

    private mutating func parseValue(depth: Int) throws -> HeaderJSON {
        guard depth < Self.maxDepth else {
            throw failure(expected: "at most \(Self.maxDepth) levels of nesting")
        }
        guard i < bytes.count else { throw failure(expected: "a JSON value") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure(expected: "a JSON value")
        }
    }

    private mutating func parseObject(depth: Int) throws -> HeaderJSON {
        i += 1  // {
        var members: [HeaderJSONMember] = []
        skipWhitespace()
        if peek == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else { throw failure(expected: "a string key") }
            let keyOffset = base + i
            let key = try parseString()
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else { throw failure(expected: "':' after the key") }
            i += 1
            skipWhitespace()
            let valueOffset = base + i
            let value = try parseValue(depth: depth + 1)
            members.append(HeaderJSONMember(key: key, keyOffset: keyOffset, value: value, valueOffset: valueOffset))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): i += 1
            case UInt8(ascii: "}"): i += 1; return .object(members)
            default: throw failure(expected: "',' or '}' in an object")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws -> HeaderJSON {
        i += 1  // [
        var elements: [HeaderJSON] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") { i += 1; return .array(elements) }
        while true {
            skipWhitespace()
            guard elements.count < Self.maxArrayLength else {
                throw failure(expected: "at most \(Self.maxArrayLength) elements in an array")
            }
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): i += 1
            case UInt8(ascii: "]"): i += 1; return .array(elements)
            default: throw failure(expected: "',' or ']' in an array")
            }
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`; integers that fit in Int become `.integer`.
    private mutating func parseNumber() throws -> HeaderJSON {
        let start = i
        let negative = peek == UInt8(ascii: "-")
        if negative { i += 1 }
        guard let first = peek, isDigit(first) else { throw failure(expected: "a digit") }
        var magnitude = 0
        var overflow = false
        if first == UInt8(ascii: "0") {
            i += 1
        } else {
            while let d = peek, isDigit(d) {
                let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(Int(d - UInt8(ascii: "0")))
                overflow = overflow || o1 || o2
                magnitude = s
                i += 1
            }
        }
        var integral = true
        if peek == UInt8(ascii: ".") {
            integral = false
            i += 1
            try skipDigits()
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            integral = false
            i += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
            try skipDigits()
        }
        if integral && !overflow { return .integer(negative ? -magnitude : magnitude) }
        return .number(String(decoding: bytes[start..<i], as: UTF8.self))
    }

    private mutating func skipDigits() throws {
        guard let d = peek, isDigit(d) else { throw failure(expected: "a digit") }
        while let d = peek, isDigit(d) { i += 1 }
    }

    /// A string starting at the opening quote; handles every escape including surrogate pairs.
    private mutating func parseString() throws -> String {
        i += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard let b = peek else { throw failure(expected: "'\"' closing the string") }
            switch b {
            case UInt8(ascii: "\""):
                i += 1
                return String(decoding: out, as: UTF8.self)  // bytes were validated as UTF-8 up front
            case 0..<0x20:
                throw failure(expected: "no control characters inside a string (escape them)")
            case UInt8(ascii: "\\"):
                i += 1
                guard let e = peek else { throw failure(expected: "an escape character") }
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    let scalar = try parseUnicodeEscape()
                    UTF8.encode(scalar) { out.append($0) }
                default:
                    i -= 1
                    throw failure(expected: "one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u")
                }
            default:
                out.append(b)
                i += 1
            }
        }
    }

    /// The code point after `\u` (the `\u` already consumed), joining a surrogate pair.
    private mutating func parseUnicodeEscape() throws -> Unicode.Scalar {
        let unit = try parseHex4()
        switch unit {
        case 0xD800...0xDBFF:
            guard peek == UInt8(ascii: "\\"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "u") else {
                throw failure(expected: "a \\u low surrogate after the high surrogate")
            }
            i += 2
            let low = try parseHex4()
            guard (0xDC00...0xDFFF).contains(low) else {
                i -= 4
                throw failure(expected: "a low surrogate DC00–DFFF")
            }
            return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))!
        case 0xDC00...0xDFFF:
            i -= 4
            throw failure(expected: "a high surrogate before this low surrogate")
        default:
            return Unicode.Scalar(unit)!
        }
    }

    private mutating func parseHex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let h = peek else { throw failure(expected: "4 hexadecimal digits") }
            let digit: UInt8
            switch h {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = h - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = h - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = h - UInt8(ascii: "A") + 10
            default: throw failure(expected: "4 hexadecimal digits")
            }
            value = value << 4 | UInt32(digit)
            i += 1
        }
        return value
    }

    private mutating func expectLiteral(_ word: String) throws {
        for c in word.utf8 {
            guard peek == c else { throw failure(expected: "\(word)") }
            i += 1
        }
    }

    // ---- helpers --------------------------------------------------------------------------------

    private var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    private func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    private mutating func skipWhitespace() {
        while let b = peek, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { i += 1 }
    }

    private func failure(expected: String) -> HeaderJSONSyntaxError {
        HeaderJSONSyntaxError(offset: base + i, found: peek.map(Self.describeByte) ?? "the end of the header",
                              expected: expected)
    }

    /// `'x'` for printable ASCII, `byte 0xNN` otherwise.
    static func describeByte(_ b: UInt8) -> String {
        (0x21...0x7E).contains(b) ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x" + hex2(b)
    }

    private static func hex2(_ b: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
    }

    /// The index of the first byte that does not belong to a well-formed UTF-8 sequence (no overlong
    /// forms, no surrogates, nothing above U+10FFFF), or nil when all of `bytes` is valid.
    static func firstInvalidUTF8(in bytes: [UInt8]) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b < 0x80 { i += 1; continue }
            let length: Int
            var secondRange: ClosedRange<UInt8> = 0x80...0xBF
            switch b {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; secondRange = 0xA0...0xBF
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; secondRange = 0x80...0x9F
            case 0xF0: length = 4; secondRange = 0x90...0xBF
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; secondRange = 0x80...0x8F
            default: return i
            }
            guard i + 1 < n, secondRange.contains(bytes[i + 1]) else { return i }
            for k in 2..<length {
                guard i + k < n, (0x80...0xBF).contains(bytes[i + k]) else { return i }
            }
            i += length
        }
        return nil
    }
}
