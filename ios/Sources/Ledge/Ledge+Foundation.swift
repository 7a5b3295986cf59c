// The thin idiomatic layer over the generated API in Ledge.swift: Foundation and CoreGraphics
// entry points for classify (one image or a batch), detect and embed, the model store's URL and
// Data entry points, Int counts, Tensor and Embedding helpers and LedgeError.kind/message. No
// logic of its own: everything delegates to the generated calls, which delegate to the Rust core.

import Foundation
#if canImport(CoreGraphics)
import CoreGraphics
#endif

extension Model {
    /// Loads a model file. A sidecar manifest beside it (`model.onnx` → `model.toml`) is used
    /// unless `options.manifest` is set; otherwise the manifest embedded by `ledge pack`.
    public static func load(contentsOf url: URL, options: LoadOptions = LoadOptions()) throws -> Model {
        try Model.fromPath(path: url.path, options: options)
    }

    /// Loads a model from ONNX bytes (manifest from the options or embedded).
    public static func load(data: Data, options: LoadOptions = LoadOptions()) throws -> Model {
        try Model.fromBytes(bytes: data, options: options)
    }

    /// Classifies an encoded image (JPEG, PNG, WebP, BMP or GIF): the `topK` best classes, best first.
    public func classify(_ image: Data, topK: Int = 5) throws -> [Prediction] {
        try classify(image, options: Self.top(topK))
    }

    /// Classifies an encoded image as `options` says (`maxResults`, `scoreThreshold`,
    /// `allowlist`, `denylist`: the core's `ClassifyOptions`).
    public func classify(_ image: Data, options: ClassifyOptions) throws -> [Prediction] {
        try classifyEncoded(bytes: image, options: options)
    }

    /// Classifies an image file.
    public func classify(contentsOf url: URL, topK: Int = 5) throws -> [Prediction] {
        try classifyPath(path: url.path, options: Self.top(topK))
    }

    /// Classifies several encoded images (JPEG, PNG, WebP, BMP or GIF) in one run of the model: one list of the
    /// `topK` best classes per image, in order, equal to what `classify(_:topK:)` returns for
    /// each. Throws the error of the first image that fails.
    public func classifyBatch(_ images: [Data], topK: Int = 5) throws -> [[Prediction]] {
        try classifyBatch(images, options: Self.top(topK))
    }

    /// Classifies several encoded images in one run of the model, as `options` says.
    public func classifyBatch(_ images: [Data], options: ClassifyOptions) throws -> [[Prediction]] {
        try classifyBatch(images: images, options: options)
    }

    /// Classifies a tightly packed RGBA frame of `width × height` pixels.
    public func classify(rgba: Data, width: Int, height: Int, topK: Int = 5) throws -> [Prediction] {
        try classifyRgba(rgba: rgba, width: UInt32(clamping: width), height: UInt32(clamping: height),
                         options: Self.top(topK))
    }

    /// Classifies an already preprocessed input tensor.
    public func classify(tensor: Tensor, topK: Int = 5) throws -> [Prediction] {
        try classifyTensor(tensor: tensor, options: Self.top(topK))
    }

    #if canImport(CoreGraphics)
    /// Classifies a `CGImage` (e.g. a camera frame): drawn into an 8-bit RGBA frame, alpha ignored.
    public func classify(_ image: CGImage, topK: Int = 5) throws -> [Prediction] {
        let frame = try Self.rgbaFrame(image)
        return try classify(rgba: frame.pixels, width: frame.width, height: frame.height, topK: topK)
    }
    #endif

    /// Detects objects in an encoded image (JPEG, PNG, WebP, BMP or GIF) with a detection model (manifest
    /// `task = "detect"`): at most `options.maxResults` detections, best first, scoring at least
    /// `options.scoreThreshold`, after non-maximum suppression of boxes overlapping a better one
    /// by more than `options.iouThreshold` IoU (`allowlist`, `denylist` as in classify). Unset
    /// (`nil`) options take the manifest's `[detect]` values. Each `Detection` has `index`,
    /// `label`, `score` in [0, 1], `boundingBox` (`x`, `y`, `width`, `height` in pixels of the
    /// image, after EXIF orientation, clipped to it) and `keypoints` (image pixels).
    public func detect(_ image: Data, options: DetectOptions = DetectOptions()) throws -> [Detection] {
        try detectEncoded(bytes: image, options: options)
    }

    /// Detects objects in an image file (see `detect(_:options:)`).
    public func detect(contentsOf url: URL, options: DetectOptions = DetectOptions()) throws -> [Detection] {
        try detectPath(path: url.path, options: options)
    }

    /// Detects objects in a tightly packed RGBA frame of `width × height` pixels; boxes are in
    /// the frame's pixels.
    public func detect(rgba: Data, width: Int, height: Int,
                       options: DetectOptions = DetectOptions()) throws -> [Detection] {
        try detectRgba(rgba: rgba, width: UInt32(clamping: width), height: UInt32(clamping: height),
                       options: options)
    }

    #if canImport(CoreGraphics)
    /// Detects objects in a `CGImage` (e.g. a camera frame): drawn into an 8-bit RGBA frame,
    /// alpha ignored; boxes are in the image's pixels (origin top left).
    public func detect(_ image: CGImage, options: DetectOptions = DetectOptions()) throws -> [Detection] {
        let frame = try Self.rgbaFrame(image)
        return try detect(rgba: frame.pixels, width: frame.width, height: frame.height, options: options)
    }
    #endif

    /// The embedding of an encoded image (JPEG, PNG, WebP, BMP or GIF) with an embedding model (manifest
    /// `task = "embed"`): `values`, the feature vector, of unit length unless the manifest says
    /// `l2_normalize = false`. Compare two with `Embedding.cosineSimilarity(_:)`.
    public func embed(_ image: Data) throws -> Embedding {
        try embedEncoded(bytes: image)
    }

    /// The embedding of an image file (see `embed(_:)`).
    public func embed(contentsOf url: URL) throws -> Embedding {
        try embedPath(path: url.path)
    }

    /// The embedding of a tightly packed RGBA frame of `width × height` pixels.
    public func embed(rgba: Data, width: Int, height: Int) throws -> Embedding {
        try embedRgba(rgba: rgba, width: UInt32(clamping: width), height: UInt32(clamping: height))
    }

    #if canImport(CoreGraphics)
    /// The embedding of a `CGImage`: drawn into an 8-bit RGBA frame, alpha ignored.
    public func embed(_ image: CGImage) throws -> Embedding {
        let frame = try Self.rgbaFrame(image)
        return try embed(rgba: frame.pixels, width: frame.width, height: frame.height)
    }

    /// `image` drawn into a tightly packed 8-bit RGBA frame (alpha ignored).
    private static func rgbaFrame(_ image: CGImage) throws -> (pixels: Data, width: Int, height: Int) {
        let width = image.width, height = image.height
        var pixels = Data(count: width * height * 4)
        let drawn: Bool = pixels.withUnsafeMutableBytes { buffer in
            guard let context = CGContext(
                data: buffer.baseAddress, width: width, height: height, bitsPerComponent: 8,
                bytesPerRow: width * 4, space: CGColorSpaceCreateDeviceRGB(),
                bitmapInfo: CGImageAlphaInfo.noneSkipLast.rawValue
            ) else { return false }
            context.draw(image, in: CGRect(x: 0, y: 0, width: width, height: height))
            return true
        }
        guard drawn else {
            throw LedgeError.ImageDecode(message: "cannot draw a \(width)×\(height) CGImage into an RGBA frame")
        }
        return (pixels, width, height)
    }
    #endif

    /// Runs the model on raw tensors, one per input in order.
    public func run(_ inputs: [Tensor]) throws -> [Tensor] {
        try run(inputs: inputs)
    }

    fileprivate static func top(_ topK: Int) -> ClassifyOptions {
        ClassifyOptions(maxResults: UInt32(clamping: max(topK, 0)))
    }
}

extension ModelStore {
    /// Opens (or creates) a store in the folder at `url`; every version is loaded with `options`
    /// (set `trustedKeys` to accept signed models only).
    public static func `open`(at url: URL, options: LoadOptions = LoadOptions()) throws -> ModelStore {
        try ModelStore.open(dir: url.path, options: options)
    }

    /// A store that keeps the installed models in memory only, loaded with default options.
    public static func inMemory() throws -> ModelStore {
        try ModelStore.inMemory(options: LoadOptions())
    }

    /// Classifies an encoded image (JPEG, PNG, WebP, BMP or GIF) with the active version of the model `name`:
    /// the `topK` best classes and the version that computed them.
    public func classify(_ image: Data, model name: String, topK: Int = 5) throws -> Served {
        try classifyEncoded(name: name, bytes: image, options: Model.top(topK))
    }

    /// Classifies an encoded image with the active version of the model `name`, as `options`
    /// says.
    public func classify(_ image: Data, model name: String, options: ClassifyOptions) throws -> Served {
        try classifyEncoded(name: name, bytes: image, options: options)
    }
}

extension Tensor {
    /// A float tensor of `shape` (row-major values).
    public init(shape: [Int], floats: [Float]) {
        var data = Data(capacity: floats.count * 4)
        for value in floats {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
        }
        self.init(shape: shape.map { UInt64($0) }, dtype: .f32, data: data)
    }

    /// Parses NumPy `.npy` bytes (versions 1–3, C order, little-endian f4, i1, u1, i4, i8).
    /// Written in Swift: the native library carries no `.npy` code (a tools format).
    public init(npy: Data) throws {
        let bytes = [UInt8](npy)
        func bad(_ what: String) -> LedgeError {
            .InvalidArgument(message: "invalid argument: not a usable .npy file: \(what)")
        }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw bad("no .npy header")
        }
        let wide = bytes[6] >= 2
        let fixed = wide ? 12 : 10
        guard bytes.count >= fixed else { throw bad("truncated header") }
        let headerLength = wide
            ? Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            : Int(bytes[8]) | Int(bytes[9]) << 8
        guard bytes.count >= fixed + headerLength,
              let header = String(bytes: bytes[fixed ..< fixed + headerLength], encoding: .utf8)
        else { throw bad("truncated header") }
        guard !header.contains("'fortran_order': True") else { throw bad("Fortran order") }
        let kinds: [(String, DType, Int)] = [("<f4", .f32, 4), ("|i1", .i8, 1), ("|u1", .u8, 1),
                                             ("<i4", .i32, 4), ("<i8", .i64, 8)]
        guard let (_, dtype, width) = kinds.first(where: { header.contains("'\($0.0)'") }) else {
            throw bad("dtype is not one of <f4 |i1 |u1 <i4 <i8")
        }
        guard let open = header.firstIndex(of: "("), let close = header.firstIndex(of: ")") else {
            throw bad("no shape")
        }
        let shape = header[header.index(after: open) ..< close].split(separator: ",")
            .compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        let count = shape.reduce(UInt64(1), *)
        let body = bytes[(fixed + headerLength)...]
        guard UInt64(body.count) == count * UInt64(width) else {
            throw bad("shape \(shape) needs \(count * UInt64(width)) bytes of data, the file has \(body.count)")
        }
        self.init(shape: shape, dtype: dtype, data: Data(body))
    }

    /// The elements as floats, for an `f32` tensor.
    public var floats: [Float]? {
        guard dtype == .f32 else { return nil }
        return stride(from: 0, to: data.count, by: 4).map { offset in
            var bits: UInt32 = 0
            for (i, byte) in data[data.startIndex + offset ..< data.startIndex + offset + 4].enumerated() {
                bits |= UInt32(byte) << (8 * UInt32(i))
            }
            return Float(bitPattern: bits)
        }
    }
}

extension Embedding {
    /// Cosine similarity with `other`, `a·b / (|a|·|b|)` in [−1, 1]: 1 for the same direction,
    /// about 0 for unrelated images. Throws `LedgeError.InvalidArgument` when the lengths differ
    /// (embeddings of different models) or a vector is all zeros or not finite.
    public func cosineSimilarity(_ other: Embedding) throws -> Float {
        // Qualified: the generated free function, not this method.
        try Ledge.cosineSimilarity(a: values, b: other.values)
    }
}

extension LedgeError {
    /// The variant's name: "ModelFormat", "InputShape", ..., or "Panic".
    public var kind: String {
        switch self {
        case .ModelFormat: return "ModelFormat"
        case .Signature: return "Signature"
        case .UnsupportedOperator: return "UnsupportedOperator"
        case .InputCount: return "InputCount"
        case .InputShape: return "InputShape"
        case .InputType: return "InputType"
        case .ImageDecode: return "ImageDecode"
        case .Preprocess: return "Preprocess"
        case .InvalidArgument: return "InvalidArgument"
        case .Manifest: return "Manifest"
        case .TaskMismatch: return "TaskMismatch"
        case .Integrity: return "Integrity"
        case .Io: return "Io"
        case .LimitExceeded: return "LimitExceeded"
        case .Optimization: return "Optimization"
        case .Inference: return "Inference"
        case .Panic: return "Panic"
        }
    }

    /// The core's message: what was expected and what was found.
    public var message: String {
        switch self {
        case let .ModelFormat(message), let .ImageDecode(message), let .InvalidArgument(message),
             let .Manifest(message), let .Preprocess(message), let .Optimization(message),
             let .Inference(message), let .Panic(message):
            return message
        case let .TaskMismatch(_, _, message): return message
        case let .UnsupportedOperator(_, _, _, message): return message
        case let .InputCount(_, _, message): return message
        case let .InputShape(_, _, _, message): return message
        case let .InputType(_, _, _, message): return message
        case let .Integrity(_, _, message): return message
        case let .Signature(_, _, message): return message
        case let .Io(_, message): return message
        case let .LimitExceeded(_, _, _, message): return message
        }
    }
}

extension LedgeError: CustomStringConvertible {
    public var description: String { "\(kind): \(message)" }
}
