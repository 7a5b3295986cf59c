// Camera frames on Apple platforms: a CVPixelBuffer adapter over the generated frame calls
// (classifyFrame/detectFrame/embedFrame, which take the planes and the core's FrameLayout) and a
// live-stream runner for AVCaptureVideoDataOutput. Nothing here converts pixels: the adapter
// reads the buffer's format, size, strides and colour range, copies its planes and hands them to
// the Rust core, which converts, turns and resamples in one pass.

#if canImport(CoreVideo) && canImport(CoreMedia)
import CoreMedia
import CoreVideo
import Foundation
#if canImport(ImageIO)
import ImageIO
#endif

/// A camera frame copied out of a `CVPixelBuffer`: its planes' bytes and the core's
/// `FrameLayout` (format, stored size, per-plane strides, rotation, mirror, colour, region).
public struct CameraFrame: Sendable {
    /// The planes in the format's order: one for BGRA, Y then interleaved CbCr for NV12.
    public let planes: [Data]
    /// What the core needs to read `planes`.
    public let layout: FrameLayout

    /// Copies `pixelBuffer`'s planes, its base address locked read-only for the copy only: the
    /// camera's buffer may go back to its pool as soon as this returns. Formats:
    /// `kCVPixelFormatType_32BGRA` (one plane, `CVPixelBufferGetBytesPerRow`) and
    /// `kCVPixelFormatType_420YpCbCr8BiPlanarFullRange` / `…VideoRange` (NV12, each plane's
    /// bytes per row, full or video range; BT.709 when the buffer's `kCVImageBufferYCbCrMatrixKey`
    /// attachment says so, BT.601 otherwise).
    ///
    /// - Parameters:
    ///   - rotationDegrees: the clockwise turn (0, 90, 180, 270) that makes the buffer upright;
    ///     see `CGImagePropertyOrientation.ledgeRotation` and ios/README.md for where it comes from.
    ///   - mirror: mirror the upright frame left to right (a front camera's preview).
    ///   - region: the part of the upright frame to look at, in its pixels (`nil`: all of it).
    /// - Throws: `LedgeError.InvalidArgument` for another pixel format, a negative rotation or a
    ///   buffer whose base address cannot be locked.
    public init(_ pixelBuffer: CVPixelBuffer, rotationDegrees: Int = 0, mirror: Bool = false,
                region: BoundingBox? = nil) throws {
        let type = CVPixelBufferGetPixelFormatType(pixelBuffer)
        let format: PixelFormat
        let range: ColorRange
        switch type {
        case kCVPixelFormatType_32BGRA:
            format = .bgra
            range = .full
        case kCVPixelFormatType_420YpCbCr8BiPlanarFullRange:
            format = .nv12
            range = .full
        case kCVPixelFormatType_420YpCbCr8BiPlanarVideoRange:
            format = .nv12
            range = .video
        default:
            throw LedgeError.InvalidArgument(message: "invalid argument: CVPixelBuffer format "
                + "'\(Self.fourCC(type))' is not supported: set the video output's "
                + "kCVPixelBufferPixelFormatTypeKey to kCVPixelFormatType_32BGRA or "
                + "kCVPixelFormatType_420YpCbCr8BiPlanarFullRange (or VideoRange)")
        }
        guard let rotation = UInt32(exactly: rotationDegrees) else {
            throw LedgeError.InvalidArgument(message: "invalid argument: rotationDegrees must be 0, 90, "
                + "180 or 270 (the clockwise turn that makes the frame upright), got \(rotationDegrees)")
        }
        guard CVPixelBufferLockBaseAddress(pixelBuffer, .readOnly) == kCVReturnSuccess else {
            throw LedgeError.InvalidArgument(message: "invalid argument: cannot lock the CVPixelBuffer's "
                + "base address to read it")
        }
        defer { CVPixelBufferUnlockBaseAddress(pixelBuffer, .readOnly) }

        var planes: [Data] = []
        var strides: [PlaneLayout] = []
        if CVPixelBufferIsPlanar(pixelBuffer) {
            for plane in 0 ..< CVPixelBufferGetPlaneCount(pixelBuffer) {
                guard let base = CVPixelBufferGetBaseAddressOfPlane(pixelBuffer, plane) else {
                    throw LedgeError.InvalidArgument(message: "invalid argument: plane \(plane) of the "
                        + "CVPixelBuffer has no base address")
                }
                let bytesPerRow = CVPixelBufferGetBytesPerRowOfPlane(pixelBuffer, plane)
                let rows = CVPixelBufferGetHeightOfPlane(pixelBuffer, plane)
                planes.append(Data(bytes: base, count: bytesPerRow * rows))
                // NV12: Y is one byte a sample, CbCr two (interleaved).
                strides.append(PlaneLayout(rowStride: UInt32(bytesPerRow), pixelStride: plane == 0 ? 1 : 2))
            }
        } else {
            guard let base = CVPixelBufferGetBaseAddress(pixelBuffer) else {
                throw LedgeError.InvalidArgument(message: "invalid argument: the CVPixelBuffer has no base address")
            }
            let bytesPerRow = CVPixelBufferGetBytesPerRow(pixelBuffer)
            planes.append(Data(bytes: base, count: bytesPerRow * CVPixelBufferGetHeight(pixelBuffer)))
            strides.append(PlaneLayout(rowStride: UInt32(bytesPerRow), pixelStride: 4))
        }
        self.planes = planes
        self.layout = FrameLayout(
            format: format,
            width: UInt32(CVPixelBufferGetWidth(pixelBuffer)),
            height: UInt32(CVPixelBufferGetHeight(pixelBuffer)),
            planes: strides,
            rotationDegrees: rotation,
            mirror: mirror,
            colorMatrix: Self.matrix(of: pixelBuffer),
            colorRange: range,
            region: region
        )
    }

    /// BT.709 when the buffer is tagged so (HD capture formats usually are), BT.601 otherwise.
    private static func matrix(of pixelBuffer: CVPixelBuffer) -> ColorMatrix {
        guard let value = CVBufferCopyAttachment(pixelBuffer, kCVImageBufferYCbCrMatrixKey, nil) else {
            return .bt601
        }
        return CFEqual(value, kCVImageBufferYCbCrMatrix_ITU_R_709_2) ? .bt709 : .bt601
    }

    /// A pixel format code as its four characters (`420f`, `BGRA`, …), or its number when those
    /// are not printable (`kCVPixelFormatType_32ARGB` is 32).
    private static func fourCC(_ code: OSType) -> String {
        let bytes = [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: code >> UInt32($0)) }
        guard bytes.allSatisfy({ (0x20 ... 0x7E).contains($0) }) else { return String(code) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

#if canImport(ImageIO)
extension CGImagePropertyOrientation {
    /// The rotation and mirror that show an image of this orientation upright, as Ledge's frames
    /// take them: `.right` (a back camera's buffer with the phone held upright) is 90° clockwise,
    /// `.leftMirrored` (the front camera's) 90° then mirrored. The same table as EXIF's
    /// orientations 1–8.
    public var ledgeRotation: (degrees: Int, mirror: Bool) {
        switch self {
        case .up: return (0, false)
        case .upMirrored: return (0, true)
        case .down: return (180, false)
        case .downMirrored: return (180, true)
        case .leftMirrored: return (90, true)
        case .right: return (90, false)
        case .rightMirrored: return (270, true)
        case .left: return (270, false)
        }
    }
}
#endif

extension Model {
    /// Classifies a camera frame (BGRA or NV12 `CVPixelBuffer`, see `CameraFrame`): the `topK`
    /// best classes, best first.
    public func classify(_ pixelBuffer: CVPixelBuffer, rotationDegrees: Int = 0, mirror: Bool = false,
                         region: BoundingBox? = nil, topK: Int = 5) throws -> [Prediction] {
        try classify(CameraFrame(pixelBuffer, rotationDegrees: rotationDegrees, mirror: mirror, region: region),
                     options: ClassifyOptions(maxResults: UInt32(clamping: max(topK, 0))))
    }

    /// Classifies a copied camera frame as `options` says.
    public func classify(_ frame: CameraFrame, options: ClassifyOptions) throws -> [Prediction] {
        try classifyFrame(planes: frame.planes, layout: frame.layout, options: options)
    }

    /// Detects objects in a camera frame: boxes in pixels of the upright frame, as displayed
    /// (after rotation and mirror; origin top left), even with a region.
    public func detect(_ pixelBuffer: CVPixelBuffer, rotationDegrees: Int = 0, mirror: Bool = false,
                       region: BoundingBox? = nil, options: DetectOptions = DetectOptions()) throws -> [Detection] {
        try detect(CameraFrame(pixelBuffer, rotationDegrees: rotationDegrees, mirror: mirror, region: region),
                   options: options)
    }

    /// Detects objects in a copied camera frame.
    public func detect(_ frame: CameraFrame, options: DetectOptions = DetectOptions()) throws -> [Detection] {
        try detectFrame(planes: frame.planes, layout: frame.layout, options: options)
    }

    /// The embedding of a camera frame.
    public func embed(_ pixelBuffer: CVPixelBuffer, rotationDegrees: Int = 0, mirror: Bool = false,
                      region: BoundingBox? = nil) throws -> Embedding {
        try embed(CameraFrame(pixelBuffer, rotationDegrees: rotationDegrees, mirror: mirror, region: region))
    }

    /// The embedding of a copied camera frame.
    public func embed(_ frame: CameraFrame) throws -> Embedding {
        try embedFrame(planes: frame.planes, layout: frame.layout)
    }

    /// A live stream classifying camera frames, the `topK` best classes per frame.
    public func classifyStream(topK: Int = 5) -> LiveStream<[Prediction]> {
        let options = ClassifyOptions(maxResults: UInt32(clamping: max(topK, 0)))
        return LiveStream { [self] frame in try classify(frame, options: options) }
    }

    /// A live stream detecting objects in camera frames.
    public func detectStream(options: DetectOptions = DetectOptions()) -> LiveStream<[Detection]> {
        LiveStream { [self] frame in try detect(frame, options: options) }
    }

    /// A live stream embedding camera frames.
    public func embedStream() -> LiveStream<Embedding> {
        LiveStream { [self] frame in try embed(frame) }
    }
}

/// What a `LiveStream` delivers for one frame.
public struct LiveResult<Value: Sendable>: Sendable {
    /// The frame's own timestamp, as given to `submit` (the sample buffer's presentation time).
    public let timestamp: CMTime
    /// The task's result, or its error (a `LedgeError`); never thrown into the camera's queue.
    public let result: Result<Value, Error>
    /// Seconds from the frame's acceptance to its result.
    public let latency: TimeInterval
}

/// Counts of a `LiveStream`. Once no frame is in flight, `submitted = processed + dropped + failed`.
public struct LiveStreamStats: Sendable, Equatable {
    /// Frames offered while the stream was open.
    public var submitted = 0
    /// Frames that gave a result.
    public var processed = 0
    /// Frames refused because another one was in flight (not copied, not run).
    public var dropped = 0
    /// Frames whose call threw (their `LiveResult.result` is the error).
    public var failed = 0
    /// Processed frames per second over the last two seconds (0 before two results).
    public var framesPerSecond = 0.0
}

/// Runs a model on a camera's frames with at most one frame in flight, and delivers each
/// result with its frame's timestamp through `results`, an `AsyncStream`.
///
/// `submit` is synchronous, for the `AVCaptureVideoDataOutput` delegate's queue: it returns
/// `false` at once (counted as dropped) while a frame is in flight, and otherwise copies the
/// buffer's planes before returning, so the camera's buffer goes back to its pool immediately.
/// The model runs on the stream's own serial queue. `close()` accepts no more frames; the frame
/// in flight finishes, then `results` ends. A frame is in flight until its result has been
/// handed to `results`, which keeps the newest `buffer` results not yet read.
public final class LiveStream<Value: Sendable>: @unchecked Sendable {
    // @unchecked: the mutable state below is only touched with `lock` held.
    /// The results, in the order the frames were accepted. Iterate it once (`for await`).
    public let results: AsyncStream<LiveResult<Value>>
    private let continuation: AsyncStream<LiveResult<Value>>.Continuation
    private let run: @Sendable (CameraFrame) throws -> Value
    private let queue = DispatchQueue(label: "dev.ledge.live-stream", qos: .userInitiated)
    private let lock = NSLock()
    private var inFlight = false
    private var closed = false
    private var counts = LiveStreamStats()
    private var finishedAt: [TimeInterval] = []

    /// A stream that runs `run` on each accepted frame (`Model.classifyStream(topK:)`,
    /// `detectStream(options:)` and `embedStream()` make one); `buffer` unread results are kept.
    public init(buffer: Int = 8, run: @escaping @Sendable (CameraFrame) throws -> Value) {
        var continuation: AsyncStream<LiveResult<Value>>.Continuation?
        results = AsyncStream(bufferingPolicy: .bufferingNewest(max(buffer, 1))) { continuation = $0 }
        self.continuation = continuation!
        self.run = run
    }

    deinit { continuation.finish() }

    /// Offers a frame with its `timestamp`; `true` when accepted (copied; its result follows),
    /// `false` when a frame is in flight (dropped) or the stream is closed. Never throws: a frame
    /// that cannot be read arrives as a failed result.
    @discardableResult
    public func submit(_ pixelBuffer: CVPixelBuffer, timestamp: CMTime, rotationDegrees: Int = 0,
                       mirror: Bool = false, region: BoundingBox? = nil) -> Bool {
        let accepted: Bool = locked {
            guard !closed else { return false }
            counts.submitted += 1
            guard !inFlight else {
                counts.dropped += 1
                return false
            }
            inFlight = true
            return true
        }
        guard accepted else { return false }
        let started = ProcessInfo.processInfo.systemUptime
        let frame = Result { try CameraFrame(pixelBuffer, rotationDegrees: rotationDegrees, mirror: mirror, region: region) }
        queue.async { [self] in
            let result = frame.flatMap { frame in Result { try run(frame) } }
            finish(LiveResult(timestamp: timestamp, result: result,
                              latency: ProcessInfo.processInfo.systemUptime - started))
        }
        return true
    }

    /// Frames submitted, processed, dropped and failed so far, and frames per second.
    public var stats: LiveStreamStats {
        locked {
            var stats = counts
            let now = ProcessInfo.processInfo.systemUptime
            let recent = finishedAt.filter { now - $0 <= 2 }
            if let first = recent.first, let last = recent.last, last > first {
                stats.framesPerSecond = Double(recent.count - 1) / (last - first)
            }
            return stats
        }
    }

    /// Accepts no more frames; the frame in flight finishes and is delivered, then `results`
    /// ends.
    public func close() {
        let idle: Bool = locked {
            closed = true
            return !inFlight
        }
        if idle { continuation.finish() }
    }

    private func finish(_ result: LiveResult<Value>) {
        locked {
            switch result.result {
            case .success:
                counts.processed += 1
                let now = ProcessInfo.processInfo.systemUptime
                finishedAt = finishedAt.filter { now - $0 <= 2 } + [now]
            case .failure:
                counts.failed += 1
            }
        }
        continuation.yield(result)
        let ended: Bool = locked {
            inFlight = false
            return closed
        }
        if ended { continuation.finish() }
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
#endif
