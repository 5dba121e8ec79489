// AtomicFile: write a file so that a reader (or a crash) sees either the old file or the whole new
// one, never a partial write (DESIGN.md conventions; issue 7: SIGKILL at any moment must leave the
// previous checkpoint loadable).
//
// How: write a temporary file in the same directory (rename is only atomic within one file system),
// fsync it so its data is on disk before the name points at it, rename it over the target, then
// fsync the directory so the rename itself survives a power cut. On any failure the temporary file
// is removed and the target is untouched. Plain POSIX calls, so errors carry errno's message.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files atomically: all of the new content or none of it.
///
/// ```swift
/// try AtomicFile.write(Array(json.utf8), to: runDir.appendingPathComponent("summary.json"))
/// try AtomicFile.write(to: url) { sink in
///     try sink.write(header)
///     try sink.write(payload)
/// }
/// ```
public enum AtomicFile {
    /// Where the content goes while ``AtomicFile/write(to:_:)`` runs: an open temporary file.
    public final class Sink {
        fileprivate let fd: Int32
        /// The path the errors name (the final one, which is what the user asked for).
        fileprivate let path: String
        /// Bytes written so far.
        public private(set) var count = 0

        fileprivate init(fd: Int32, path: String) {
            self.fd = fd
            self.path = path
        }

        /// Appends `bytes`, retrying short writes and interrupted calls.
        public func write(_ bytes: UnsafeRawBufferPointer) throws {
            guard var p = bytes.baseAddress else { return }
            var left = bytes.count
            while left > 0 {
                let n = posixWrite(fd, p, left)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw CheckpointError.fileAccess(path: path, operation: "write", reason: errnoMessage())
                }
                p += n
                left -= n
                count += n
            }
        }

        /// Appends `bytes`.
        public func write(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try write($0) }
        }
    }

    /// Writes `bytes` to `url` atomically.
    /// - Throws: ``CheckpointError/fileAccess(path:operation:reason:)`` naming `url`'s path.
    public static func write(_ bytes: [UInt8], to url: URL) throws {
        try write(to: url) { try $0.write(bytes) }
    }

    /// Calls `body` with a sink on a temporary file beside `url`, then makes it `url` atomically.
    /// If `body` or any file operation throws, `url` is left as it was and the temporary file removed.
    /// - Throws: ``CheckpointError/fileAccess(path:operation:reason:)`` naming `url`'s path, or
    ///   whatever `body` throws.
    public static func write(to url: URL, _ body: (Sink) throws -> Void) throws {
        try write(to: url, beforeCommit: nil, body)
    }

    /// As ``write(to:_:)``, with `beforeCommit` called after the data is synced and before the
    /// rename (tests use it to simulate a failure at the last moment).
    static func write(to url: URL, beforeCommit: ((URL) throws -> Void)?, _ body: (Sink) throws -> Void) throws {
        let path = url.path
        let directory = url.deletingLastPathComponent()
        let tempURL = directory.appendingPathComponent(
            ".\(url.lastPathComponent).\(getpid()).\(String(UInt64.random(in: 0...UInt64.max), radix: 16)).tmp")
        let tempPath = tempURL.path

        let fd = posixOpen(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let reason = errno == ENOENT ? "the directory \(directory.path) does not exist" : errnoMessage()
            throw CheckpointError.fileAccess(path: path, operation: "create a temporary file in its directory",
                                             reason: reason)
        }
        var open = true
        var committed = false
        defer {
            if open { _ = posixClose(fd) }
            if !committed { _ = unlink(tempPath) }
        }

        try body(Sink(fd: fd, path: path))
        while fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw CheckpointError.fileAccess(path: path, operation: "flush to disk (fsync)", reason: errnoMessage())
        }
        open = false
        if posixClose(fd) != 0 {
            throw CheckpointError.fileAccess(path: path, operation: "close", reason: errnoMessage())
        }
        try beforeCommit?(tempURL)
        guard rename(tempPath, path) == 0 else {
            throw CheckpointError.fileAccess(path: path, operation: "replace with the new file (rename)",
                                             reason: errnoMessage())
        }
        committed = true
        syncDirectory(directory.path)
    }

    /// Best effort: makes the rename durable. Some file systems refuse fsync on a directory; the
    /// rename has still happened, so that is not an error.
    private static func syncDirectory(_ path: String) {
        let dfd = posixOpen(path, O_RDONLY | O_CLOEXEC, 0)
        guard dfd >= 0 else { return }
        _ = fsync(dfd)
        _ = posixClose(dfd)
    }
}

// File-scope wrappers: inside types with methods named `write`/`read`, the C functions are shadowed.
func posixOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
func posixClose(_ fd: Int32) -> Int32 { close(fd) }
func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }
func posixPread(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int, _ offset: Int) -> Int {
    pread(fd, p, n, off_t(offset))
}
func errnoMessage() -> String { String(cString: strerror(errno)) }
