// The broken-file battery (issue 7): one valid file of a format, broken every way a download, a
// disk or a liar can break it — cut at every 97th byte (and at every byte of the header), each
// header byte flipped with several masks — and every result must be a thrown DataError whose
// message names the file, or (for a flip that leaves a valid file, e.g. a gzip timestamp) a clean
// parse. Never a crash, a hang or another error type.
//
// Adding a format (CIFAR binary, series text) is a few lines:
//
//     @Test func cifarBattery() throws {
//         let battery = BrokenFileBattery(name: "data_batch_1.bin", valid: tinyCIFAR(), headerLength: 3073) {
//             try CIFAR.parse($0, path: $1)     // the format's in-memory entry point
//         }
//         battery.run()
//     }
//
// plus the format's lying sizes and out-of-range values as their own tests.
import Foundation
import Testing
@testable import HighwayData

struct BrokenFileBattery {
    /// The name the file is given in errors; every message must contain it.
    let name: String
    /// A valid file; the battery checks first that it parses.
    let valid: [UInt8]
    /// How many leading bytes are header (cut at every one of them, flip every one of them).
    let headerLength: Int
    /// Byte ranges past the header to flip as well (e.g. a gzip trailer).
    var extraFlipRanges: [Range<Int>] = []
    /// For formats without sizes or terminators (text): whether the file cut to `cut` bytes may
    /// parse (e.g. a cut at a line end). Nil: every cut must be refused.
    var mayParseWhenCut: ((_ cut: Int) -> Bool)? = nil
    /// Parses bytes as the format, with `name` as the path.
    let parse: (_ bytes: [UInt8], _ name: String) throws -> Void

    init(name: String, valid: [UInt8], headerLength: Int, extraFlipRanges: [Range<Int>] = [],
         mayParseWhenCut: ((_ cut: Int) -> Bool)? = nil,
         parse: @escaping (_ bytes: [UInt8], _ name: String) throws -> Void) {
        self.name = name
        self.valid = valid
        self.headerLength = min(headerLength, valid.count)
        self.extraFlipRanges = extraFlipRanges
        self.mayParseWhenCut = mayParseWhenCut
        self.parse = parse
    }

    enum Outcome: Equatable { case accepted, rejected }

    /// Parses `bytes`; records an issue unless it is accepted or throws a DataError naming the file.
    @discardableResult
    func check(_ bytes: [UInt8], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) -> Outcome? {
        do {
            try parse(bytes, name)
            return .accepted
        } catch let error as DataError {
            if !error.description.contains(name) {
                Issue.record("\(what): message does not name \(name): \(error)", sourceLocation: sourceLocation)
            }
            return .rejected
        } catch {
            Issue.record("\(what): threw \(type(of: error)), not DataError: \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// Every cut point: each header byte, then every 97th byte, then one byte short.
    var cuts: [Int] {
        Array(Set(Array(0..<headerLength) + Array(stride(from: 0, to: valid.count, by: 97)) + [valid.count - 1])).sorted()
    }

    /// Runs the whole battery. Returns how many flips were rejected, and the (position, mask) of
    /// each flip that left a file the parser accepts.
    @discardableResult
    func run(sourceLocation: SourceLocation = #_sourceLocation) -> (rejected: Int, accepted: [(position: Int, mask: UInt8)]) {
        #expect(check(valid, "the valid file", sourceLocation: sourceLocation) == .accepted,
                "the battery's valid file must parse", sourceLocation: sourceLocation)
        for cut in cuts where cut < valid.count {
            if check(Array(valid[..<cut]), "cut at \(cut) of \(valid.count)", sourceLocation: sourceLocation) == .accepted,
               !(mayParseWhenCut?(cut) ?? false) {
                Issue.record("cut at \(cut) of \(valid.count): accepted a truncated file", sourceLocation: sourceLocation)
            }
        }
        var rejected = 0
        var accepted: [(position: Int, mask: UInt8)] = []
        let positions = Array(0..<headerLength) + extraFlipRanges.flatMap { Array($0) }
        for position in positions where position < valid.count {
            for mask: UInt8 in [0x01, 0x02, 0x04, 0x10, 0x40, 0x80, 0xFF] {
                var bytes = valid
                bytes[position] ^= mask
                switch check(bytes, "byte \(position) ^ \(mask)", sourceLocation: sourceLocation) {
                case .rejected?: rejected += 1
                case .accepted?: accepted.append((position, mask))
                case nil: break
                }
            }
        }
        return (rejected, accepted)
    }
}
