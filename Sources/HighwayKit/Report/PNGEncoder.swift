// Minimal PNG writer: 8-bit RGB, one IDAT, zlib from the system (CZlib).
//
// Layout (PNG spec, ISO/IEC 15948): 8-byte signature, then chunks of
// [length: UInt32 BE][type: 4 ASCII][data][CRC-32 of type+data, BE]: IHDR, IDAT, IEND.
// Each scanline is prefixed by a filter byte; we pick, per row, whichever of None/Sub/Up gives the
// smallest sum of absolute residuals (the spec's recommended heuristic) — charts are mostly flat
// colour, which Sub and Up turn into runs of zeros that deflate well.

import CZlib
import Foundation

enum PNGEncoder {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Encodes row-major RGB triples (`width * height * 3` bytes) as a PNG file.
    static func encode(rgb: [UInt8], width: Int, height: Int) -> Data {
        precondition(rgb.count == width * height * 3, "PNG: \(rgb.count) bytes for \(width)×\(height) RGB")
        var out = Data(signature)

        var header: [UInt8] = []
        appendBE(&header, UInt32(width))
        appendBE(&header, UInt32(height))
        header += [8, 2, 0, 0, 0]  // bit depth 8, colour type 2 (RGB), deflate, adaptive filters, no interlace
        appendChunk(&out, "IHDR", header)

        appendChunk(&out, "IDAT", compress(filtered(rgb: rgb, width: width, height: height)))
        appendChunk(&out, "IEND", [])
        return out
    }

    /// The scanlines with their filter bytes: height × (1 + 3·width) bytes.
    static func filtered(rgb: [UInt8], width: Int, height: Int) -> [UInt8] {
        let stride = width * 3
        var out = [UInt8](repeating: 0, count: height * (stride + 1))
        var sub = [UInt8](repeating: 0, count: stride)
        var up = [UInt8](repeating: 0, count: stride)
        for y in 0..<height {
            let row = y * stride
            var costNone = 0, costSub = 0, costUp = 0
            for i in 0..<stride {
                let v = rgb[row + i]
                let left: UInt8 = i >= 3 ? rgb[row + i - 3] : 0
                let above: UInt8 = y > 0 ? rgb[row - stride + i] : 0
                sub[i] = v &- left
                up[i] = v &- above
                // Residuals read as signed bytes: small magnitudes compress best.
                costNone += abs(Int(Int8(bitPattern: v)))
                costSub += abs(Int(Int8(bitPattern: sub[i])))
                costUp += abs(Int(Int8(bitPattern: up[i])))
            }
            let base = y * (stride + 1)
            if costSub <= costNone, costSub <= costUp {
                out[base] = 1
                for i in 0..<stride { out[base + 1 + i] = sub[i] }
            } else if costUp <= costNone {
                out[base] = 2
                for i in 0..<stride { out[base + 1 + i] = up[i] }
            } else {
                out[base] = 0
                for i in 0..<stride { out[base + 1 + i] = rgb[row + i] }
            }
        }
        return out
    }

    /// zlib stream (RFC 1950) of `bytes`, as the IDAT payload requires.
    static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var destinationLength = compressBound(uLong(bytes.count))
        var destination = [UInt8](repeating: 0, count: Int(destinationLength))
        let status = bytes.withUnsafeBufferPointer { source in
            destination.withUnsafeMutableBufferPointer { dest in
                compress2(dest.baseAddress, &destinationLength, source.baseAddress, uLong(source.count), 9)
            }
        }
        // compress2 fails only on out-of-memory or a too-small buffer, which compressBound rules out.
        precondition(status == Z_OK, "zlib compress2 failed with status \(status)")
        return Array(destination.prefix(Int(destinationLength)))
    }

    static func appendChunk(_ out: inout Data, _ type: String, _ data: [UInt8]) {
        var bytes: [UInt8] = []
        appendBE(&bytes, UInt32(data.count))
        let typeAndData = Array(type.utf8) + data
        bytes += typeAndData
        let crc = typeAndData.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        appendBE(&bytes, UInt32(crc))
        out.append(contentsOf: bytes)
    }

    static func appendBE(_ bytes: inout [UInt8], _ v: UInt32) {
        bytes += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }
}
