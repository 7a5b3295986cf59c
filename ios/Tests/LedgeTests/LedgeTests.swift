// XCTests of the Swift package: every shared vector (the same rules as core/tests/vectors.rs,
// core/tests/tasks.rs and the Python tests: classification, detection, embeddings, camera
// frames), a sample of the bad-input catalogue, the task errors, threads, the model lifecycle
// (batches, cache, signed fixtures, the versioned store, stats; as core/tests/lifecycle.rs), the
// CVPixelBuffer adapter and the live stream, and the README snippets.
// demo-models/ is read from the repository (LEDGE_DEMO_MODELS overrides); see ios/README.md.

import CoreMedia
import CoreVideo
import Foundation
import ImageIO
import XCTest
@testable import Ledge

private let demo: URL = {
    if let path = ProcessInfo.processInfo.environment["LEDGE_DEMO_MODELS"] {
        return URL(fileURLWithPath: path)
    }
    // ios/Tests/LedgeTests/LedgeTests.swift → repository root
    return URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("demo-models")
}()

private struct Cases: Decodable {
    let format: Int
    let cases: [Case]
}

private struct Case: Decodable {
    let name: String
    let level: String
    let model: String
    let manifest: String?
    let image: String
    let tensor: String
    let expected: [Expected]
    let tolerance: Float
}

private struct Expected: Decodable {
    let index: UInt64
    let label: String?
    let score: Float
}

// demo-models/vectors/detect.json
private struct DetectCases: Decodable {
    let format: Int
    let cases: [DetectCase]
}

private struct DetectCase: Decodable {
    let name: String
    let model: String
    let image: String
    let options: VectorDetectOptions
    let expected: [ExpectedDetection]
    let minIou: Float
    let scoreTolerance: Float

    enum CodingKeys: String, CodingKey {
        case name, model, image, options, expected
        case minIou = "min_iou"
        case scoreTolerance = "score_tolerance"
    }
}

/// The core's `DetectOptions` as the vectors write them (camelCase; absent = the manifest's).
private struct VectorDetectOptions: Decodable {
    let maxResults: UInt32?
    let scoreThreshold: Float?
    let iouThreshold: Float?
    let allowlist: [String]?
    let denylist: [String]?

    var options: DetectOptions {
        DetectOptions(maxResults: maxResults, scoreThreshold: scoreThreshold, iouThreshold: iouThreshold,
                      allowlist: allowlist ?? [], denylist: denylist ?? [])
    }
}

private struct ExpectedDetection: Decodable {
    let index: UInt32
    let label: String?
    let score: Float
    /// `[x, y, width, height]`, image pixels.
    let box: [Float]
    /// `[[x, y], ...]`, image pixels.
    let keypoints: [[Float]]
}

// demo-models/vectors/embed.json
private struct EmbedVectors: Decodable {
    let format: Int
    let cases: [EmbedCase]
    let pairs: [EmbedPair]
}

private struct EmbedCase: Decodable {
    let name: String
    let model: String
    let image: String
    let expected: [Float]
    let minCosine: Float

    enum CodingKeys: String, CodingKey {
        case name, model, image, expected
        case minCosine = "min_cosine"
    }
}

private struct EmbedPair: Decodable {
    let model: String
    let a: String
    let b: String
    let cosine: Float
    let tolerance: Float
}

// demo-models/vectors/frames.json
private struct FrameVectors: Decodable {
    let format: Int
    let cases: [FrameCase]
}

private struct FrameCase: Decodable {
    let name: String
    let task: String
    let model: String
    /// Relative to demo-models/vectors/; plane k is `file[planes[k][0] ..< planes[k][0] + planes[k][1]]`.
    let file: String
    let planes: [[Int]]
    let layout: VectorFrameLayout
    let options: VectorDetectOptions?
    let expected: FrameExpected
    let scoreTolerance: Float
    let minIou: Float?

    enum CodingKeys: String, CodingKey {
        case name, task, model, file, planes, layout, options, expected
        case scoreTolerance = "score_tolerance"
        case minIou = "min_iou"
    }
}

/// classify: `[[index, probability], ...]` (best first); detect: the expected detections.
private enum FrameExpected: Decodable {
    case classify(index: UInt64, probability: Float)
    case detect([FrameDetection])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let top = try? container.decode([[Double]].self), let first = top.first, first.count == 2 {
            self = .classify(index: UInt64(first[0]), probability: Float(first[1]))
        } else {
            self = .detect(try container.decode([FrameDetection].self))
        }
    }
}

private struct FrameDetection: Decodable {
    let index: UInt32
    let label: String?
    let score: Float
    /// `[x, y, width, height]`, upright-frame pixels.
    let box: [Float]
}

/// The core's `FrameLayout` as the vectors write it (serde, camelCase).
private struct VectorFrameLayout: Decodable {
    struct Plane: Decodable {
        let rowStride: UInt32
        let pixelStride: UInt32
    }

    struct Region: Decodable {
        let x, y, width, height: Float
    }

    let format: String
    let width: UInt32
    let height: UInt32
    let planes: [Plane]
    let rotationDegrees: UInt32
    let mirror: Bool
    let colorMatrix: String
    let colorRange: String
    let region: Region?

    func frameLayout() throws -> FrameLayout {
        let formats: [String: PixelFormat] = ["rgba": .rgba, "bgra": .bgra, "rgb": .rgb, "nv12": .nv12,
                                              "nv21": .nv21, "i420": .i420]
        let matrices: [String: ColorMatrix] = ["bt601": .bt601, "bt709": .bt709]
        let ranges: [String: ColorRange] = ["full": .full, "video": .video]
        return FrameLayout(
            format: try XCTUnwrap(formats[format], "pixel format \(format)"),
            width: width, height: height,
            planes: planes.map { PlaneLayout(rowStride: $0.rowStride, pixelStride: $0.pixelStride) },
            rotationDegrees: rotationDegrees, mirror: mirror,
            colorMatrix: try XCTUnwrap(matrices[colorMatrix], colorMatrix),
            colorRange: try XCTUnwrap(ranges[colorRange], colorRange),
            region: region.map { BoundingBox(x: $0.x, y: $0.y, width: $0.width, height: $0.height) }
        )
    }
}

private func frameVectors() throws -> FrameVectors {
    let vectors = try JSONDecoder().decode(FrameVectors.self, from: read("vectors/frames.json"))
    XCTAssertEqual(vectors.format, 1)
    XCTAssertGreaterThan(vectors.cases.count, 0)
    return vectors
}

/// Intersection over union of two `[x, y, width, height]` boxes (0 when the union is 0).
private func iou(_ a: [Float], _ b: [Float]) -> Float {
    let ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    let iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    let union = a[2] * a[3] + b[2] * b[3] - ix * iy
    return union > 0 ? ix * iy / union : 0
}

/// Every way `actual` breaks the detection rule for `c` (empty: it matches): the same count;
/// each expected detection matched to a not yet matched actual one of the same index, best IoU
/// first, with IoU ≥ min_iou, |Δscore| ≤ score_tolerance, the same label and keypoint count.
private func mismatches(_ c: DetectCase, _ actual: [Detection]) -> [String] {
    var problems: [String] = []
    if actual.count != c.expected.count {
        problems.append("\(actual.count) detections, expected \(c.expected.count)")
    }
    var taken = Array(repeating: false, count: actual.count)
    for e in c.expected {
        let best = actual.indices
            .filter { !taken[$0] && actual[$0].index == e.index }
            .map { i -> (Int, Float) in
                let b = actual[i].boundingBox
                return (i, iou([b.x, b.y, b.width, b.height], e.box))
            }
            .max { $0.1 < $1.1 }
        guard let (i, overlap) = best, overlap >= c.minIou else {
            problems.append("class \(e.index) box \(e.box): best IoU \(best.map { String($0.1) } ?? "none")")
            continue
        }
        taken[i] = true
        let a = actual[i]
        if abs(a.score - e.score) > c.scoreTolerance {
            problems.append("class \(e.index) score \(a.score) vs \(e.score)")
        }
        if a.label != e.label || a.keypoints.count != e.keypoints.count {
            problems.append("class \(e.index): label \(a.label ?? "nil") / \(a.keypoints.count) keypoints "
                + "vs \(e.label ?? "nil") / \(e.keypoints.count)")
        }
    }
    return problems
}

private func read(_ rel: String) throws -> Data {
    try Data(contentsOf: demo.appendingPathComponent(rel))
}

private func assertThrows(
    _ kind: String, _ needles: [String] = [], file: StaticString = #filePath, line: UInt = #line,
    _ body: () throws -> Void
) {
    do {
        try body()
        XCTFail("expected LedgeError.\(kind)", file: file, line: line)
    } catch let error as LedgeError {
        XCTAssertEqual(error.kind, kind, error.message, file: file, line: line)
        for needle in needles {
            XCTAssertTrue(error.message.contains(needle), "'\(error.message)' should mention '\(needle)'",
                          file: file, line: line)
        }
    } catch {
        XCTFail("expected LedgeError.\(kind), got \(error)", file: file, line: line)
    }
}

final class VectorTests: XCTestCase {
    func testEveryVectorMatchesTheReference() throws {
        let cases = try JSONDecoder().decode(Cases.self, from: read("vectors/cases.json"))
        XCTAssertEqual(cases.format, 1)
        XCTAssertGreaterThanOrEqual(cases.cases.count, 38)
        var models: [String: Model] = [:]
        var failures: [String] = []
        for c in cases.cases {
            let model = try models[c.model] ?? Model.load(contentsOf: demo.appendingPathComponent(c.model))
            models[c.model] = model
            let classes = try Int(model.info().outputs[0].shape.reduce(1, *))
            let got: [Prediction]
            switch c.level {
            case "tensor": got = try model.classify(tensor: Tensor(npy: read(c.tensor)), topK: classes)
            case "image": got = try model.classify(read(c.image), topK: classes)
            default: XCTFail("unknown level \(c.level)"); continue
            }
            let score = Dictionary(uniqueKeysWithValues: got.map { ($0.index, $0.score) })
            if got[0].index != c.expected[0].index {
                failures.append("\(c.name): top-1 \(got[0].index) != \(c.expected[0].index)")
            }
            XCTAssertEqual(got[0].label, c.expected[0].label, c.name)
            for e in c.expected {
                let diff = abs((score[e.index] ?? -1) - e.score)
                if diff > c.tolerance {
                    failures.append("\(c.name): index \(e.index) score \(score[e.index] ?? -1) vs \(e.score)")
                }
            }
        }
        XCTAssertTrue(failures.isEmpty, failures.joined(separator: "\n"))
    }
}

final class TaskVectorTests: XCTestCase {
    func testEveryDetectionVectorMatchesTheReference() throws {
        let vectors = try JSONDecoder().decode(DetectCases.self, from: read("vectors/detect.json"))
        XCTAssertEqual(vectors.format, 1)
        XCTAssertGreaterThanOrEqual(vectors.cases.count, 7)
        XCTAssertGreaterThanOrEqual(vectors.cases.reduce(0) { $0 + $1.expected.count }, 6)
        var models: [String: Model] = [:]
        var failures: [String] = []
        for c in vectors.cases {
            let model = try models[c.model] ?? Model.load(contentsOf: demo.appendingPathComponent(c.model))
            models[c.model] = model
            let got = try model.detect(read(c.image), options: c.options.options)
            failures += mismatches(c, got).map { "\(c.name): \($0)" }
        }
        XCTAssertTrue(failures.isEmpty, failures.joined(separator: "\n"))
    }

    func testEveryEmbeddingVectorMatchesTheReference() throws {
        let vectors = try JSONDecoder().decode(EmbedVectors.self, from: read("vectors/embed.json"))
        XCTAssertEqual(vectors.format, 1)
        XCTAssertGreaterThanOrEqual(vectors.cases.count, 6)
        XCTAssertGreaterThanOrEqual(vectors.pairs.count, 6)
        var models: [String: Model] = [:]
        func model(_ rel: String) throws -> Model {
            let m = try models[rel] ?? Model.load(contentsOf: demo.appendingPathComponent(rel))
            models[rel] = m
            return m
        }
        for c in vectors.cases {
            let e = try model(c.model).embed(read(c.image))
            XCTAssertEqual(e.values.count, c.expected.count, c.name)
            let cosine = try e.cosineSimilarity(Embedding(values: c.expected))
            XCTAssertGreaterThanOrEqual(cosine, c.minCosine, c.name)
            let norm = e.values.reduce(0) { $0 + $1 * $1 }.squareRoot()
            XCTAssertEqual(norm, 1, accuracy: 1e-4, "\(c.name): l2_normalize = true")
        }
        for p in vectors.pairs {
            let m = try model(p.model)
            let a = try m.embed(contentsOf: demo.appendingPathComponent(p.a))
            let b = try m.embed(contentsOf: demo.appendingPathComponent(p.b))
            XCTAssertEqual(try a.cosineSimilarity(b), p.cosine, accuracy: p.tolerance, "\(p.a) ~ \(p.b)")
        }
    }

    func testTheMatchingRuleCanFail() throws {
        let vectors = try JSONDecoder().decode(DetectCases.self, from: read("vectors/detect.json"))
        let c = try XCTUnwrap(vectors.cases.first { $0.expected.count == 1 })
        let e = c.expected[0]
        func detection(index: UInt32? = nil, score: Float? = nil, dx: Float = 0) -> Detection {
            Detection(index: index ?? e.index, label: e.label, score: score ?? e.score,
                      boundingBox: BoundingBox(x: e.box[0] + dx, y: e.box[1], width: e.box[2], height: e.box[3]),
                      keypoints: e.keypoints.map { Point(x: $0[0], y: $0[1]) })
        }
        XCTAssertEqual(mismatches(c, [detection()]), [])
        XCTAssertFalse(mismatches(c, []).isEmpty)
        XCTAssertFalse(mismatches(c, [detection(), detection()]).isEmpty)
        XCTAssertFalse(mismatches(c, [detection(index: e.index + 1)]).isEmpty)
        XCTAssertFalse(mismatches(c, [detection(score: e.score + 2 * c.scoreTolerance)]).isEmpty)
        XCTAssertFalse(mismatches(c, [detection(dx: e.box[2] / 2)]).isEmpty)
    }

    func testEntryPointsAgree() throws {
        let ssd = try Model.load(contentsOf: demo.appendingPathComponent("ssd-mobilenetv2-oid/model.onnx"))
        let url = demo.appendingPathComponent("images/coffee.png")
        let png = try Data(contentsOf: url)
        let found = try ssd.detect(png)
        XCTAssertEqual(found.map(\.label), ["Coffee cup"])
        XCTAssertEqual(try ssd.detect(contentsOf: url), found)
        XCTAssertEqual(try ssd.detect(png, options: DetectOptions(denylist: ["Coffee cup"])), [])
        XCTAssertEqual(try ssd.detect(png, options: DetectOptions(maxResults: 1, scoreThreshold: 0.01)).count, 1)
        let embedder = try Model.load(contentsOf: demo.appendingPathComponent("efficientnet-lite0-embed/model.onnx"))
        let e = try embedder.embed(png)
        XCTAssertEqual(e.values.count, 1280)
        XCTAssertEqual(try embedder.embed(contentsOf: url), e)
        XCTAssertEqual(try e.cosineSimilarity(e), 1, accuracy: 1e-6)
        XCTAssertEqual(try cosineSimilarity(a: e.values, b: e.values), 1, accuracy: 1e-6)
    }

    func testTaskAndOptionErrors() throws {
        let png = try read("images/chelsea.png")
        let classifier = try Model.load(contentsOf: demo.appendingPathComponent("efficientnet-lite0/model.onnx"))
        let ssd = try Model.load(contentsOf: demo.appendingPathComponent("ssd-mobilenetv2-oid/model.onnx"))
        assertThrows("TaskMismatch", ["task = \"classify\""]) { _ = try classifier.detect(png) }
        do {
            _ = try classifier.embed(png)
            XCTFail("expected LedgeError.TaskMismatch")
        } catch let LedgeError.TaskMismatch(task, _, _) {
            XCTAssertEqual(task, "embed")
        }
        assertThrows("TaskMismatch") { _ = try ssd.classify(png) }
        assertThrows("TaskMismatch") { _ = try ssd.embed(png) }
        assertThrows("InvalidArgument", ["score_threshold must be in [0, 1], got 1.5"]) {
            _ = try ssd.detect(png, options: DetectOptions(scoreThreshold: 1.5))
        }
        assertThrows("InvalidArgument", ["iou_threshold must be in [0, 1]"]) {
            _ = try ssd.detect(png, options: DetectOptions(iouThreshold: -0.5))
        }
        assertThrows("InvalidArgument", ["max_results must be at least 1"]) {
            _ = try ssd.detect(png, options: DetectOptions(maxResults: 0))
        }
        assertThrows("InvalidArgument", ["same length, got 2 and 3"]) {
            _ = try Embedding(values: [1, 0]).cosineSimilarity(Embedding(values: [1, 0, 0]))
        }
        assertThrows("InvalidArgument", ["all-zero"]) {
            _ = try cosineSimilarity(a: [0, 0], b: [1, 0])
        }
    }
}

final class BadInputTests: XCTestCase {
    func testBadModelsAndInputs() throws {
        assertThrows("ModelFormat", ["empty"]) { _ = try Model.load(data: Data()) }
        assertThrows("UnsupportedOperator", ["other unsupported node"]) {
            _ = try Model.load(data: read("fixtures/ppocr-cls-qoperator.onnx"))
        }
        assertThrows("Io", ["no-such-model.onnx"]) {
            _ = try Model.load(contentsOf: demo.appendingPathComponent("no-such-model.onnx"))
        }
        let model = try Model.load(contentsOf: demo.appendingPathComponent("ppocr-cls/model.onnx"))
        assertThrows("InputShape", ["expected shape [1, 3, 48, 192], got [1, 3, 48, 190]"]) {
            _ = try model.run([Tensor(shape: [1, 3, 48, 190], floats: Array(repeating: 0, count: 3 * 48 * 190))])
        }
        assertThrows("InputCount", ["expected 1 input tensor(s), got 0"]) { _ = try model.run([]) }
        assertThrows("ImageDecode", ["JPEG or PNG"]) { _ = try model.classify(Data([0, 1, 2, 3])) }
        assertThrows("ImageDecode", ["no pixels"]) { _ = try model.classify(rgba: Data(), width: 0, height: 10) }
        assertThrows("InvalidArgument", ["max_results must be at least 1"]) { _ = try model.classify(read("images/line0_0.png"), topK: 0) }
        assertThrows("InvalidArgument", ["needs 16 bytes, got 15"]) {
            _ = try model.classify(rgba: Data(count: 15), width: 2, height: 2, topK: 1)
        }
        assertThrows("LimitExceeded", ["max_image_pixels is 4900000000"]) {
            _ = try model.classify(rgba: Data(count: 4), width: 70_000, height: 70_000, topK: 1)
        }
        XCTAssertEqual(try model.stats().runs, 0, "failed calls are not counted")
    }
}

final class ThreadTests: XCTestCase {
    func testEightThreadsShareOneModel() throws {
        let model = try Model.load(contentsOf: demo.appendingPathComponent("efficientnet-lite0/model.onnx"))
        let tensor = try Tensor(npy: read("vectors/tensors/efficientnet-lite0_chelsea.npy"))
        let reference = try model.run([tensor])
        let lock = NSLock()
        var mismatches = 0
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0 ..< 10 {
                let out = try? model.run([tensor])
                if out != reference { lock.lock(); mismatches += 1; lock.unlock() }
            }
        }
        XCTAssertEqual(mismatches, 0)
        XCTAssertEqual(try model.stats().runs, 81)
    }
}

// demo-models/fixtures/signed/expected.json
private struct SignedFixtures: Decodable {
    let trustedKey: String
    let cases: [SignedCase]

    enum CodingKeys: String, CodingKey {
        case cases
        case trustedKey = "trusted_key"
    }
}

private struct SignedCase: Decodable {
    let model: String
    /// `nil`: the model loads with the trusted key.
    let problem: String?
}

private let photos = ["images/chelsea.png", "images/coffee.png", "images/camera.png"]

private func load(_ rel: String, _ options: LoadOptions = LoadOptions()) throws -> Model {
    try Model.load(contentsOf: demo.appendingPathComponent(rel), options: options)
}

/// Same classes in the same order, scores within 1e-6.
private func assertSame(_ got: [Prediction], _ want: [Prediction], _ what: String,
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(got.count, want.count, what, file: file, line: line)
    for (g, w) in zip(got, want) {
        XCTAssertEqual(g.index, w.index, what, file: file, line: line)
        XCTAssertEqual(g.label, w.label, what, file: file, line: line)
        XCTAssertEqual(g.score, w.score, accuracy: 1e-6, what, file: file, line: line)
    }
}

private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("ledge-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

final class LifecycleTests: XCTestCase {
    func testBatchesOf1_2_4EqualSingleCallsOnEveryVectorImage() throws {
        let cases = try JSONDecoder().decode(Cases.self, from: read("vectors/cases.json"))
        var byModel: [String: [String]] = [:]
        for c in cases.cases where c.level == "image" { byModel[c.model, default: []].append(c.image) }
        XCTAssertEqual(byModel.mapValues(\.count), ["efficientnet-lite0/model.onnx": 3, "ppocr-cls/model.onnx": 14,
                                                    "fixtures/ppocr-cls-softmax-qdq.onnx": 4])
        var compared = 0
        for (rel, images) in byModel {
            let model = try load(rel)
            let classes = try Int(model.info().outputs[0].shape.reduce(1, *))
            let data = try images.map(read)
            let single = try data.map { try model.classify($0, topK: classes) }
            for n in [1, 2, 4] {
                for start in stride(from: 0, to: data.count, by: n) {
                    let chunk = Array(data[start ..< min(start + n, data.count)])
                    let batch = try model.classifyBatch(chunk, topK: classes)
                    XCTAssertEqual(batch.count, chunk.count, "\(rel) batch \(n)")
                    for (k, got) in batch.enumerated() {
                        assertSame(got, single[start + k], "\(rel) batch \(n) #\(start + k)")
                        compared += 1
                    }
                }
            }
        }
        XCTAssertEqual(compared, 3 * (3 + 14 + 4))
        let model = try load("efficientnet-lite0/model.onnx")
        XCTAssertEqual(try model.classifyBatch([]), [])
        assertThrows("ImageDecode") { _ = try model.classifyBatch([read(photos[0]), Data([1, 2, 3])]) }
        XCTAssertEqual(try model.stats().errors, ["ImageDecode": 1])
    }

    func testCacheHitsReturnWhatAMissComputedAndAreCounted() throws {
        let model = try load("efficientnet-lite0/model.onnx",
                             LoadOptions(cache: CacheOptions(maxEntries: 2, maxBytes: 1 << 20)))
        let cat = try read("images/chelsea.png")
        let miss = try model.classify(cat, topK: 5)
        XCTAssertEqual(try model.classify(cat, topK: 5), miss)
        XCTAssertEqual(try model.classify(cat, topK: 1), Array(miss.prefix(1)))
        let s = try model.stats()
        XCTAssertEqual([s.cacheHits, s.cacheMisses, s.runs], [1, 2, 3])
        _ = try model.classify(read("images/coffee.png"), topK: 5)
        XCTAssertEqual(try model.classify(cat, topK: 5), miss)
        XCTAssertEqual(try model.stats().cacheMisses, 4, "the top-5 entry was evicted")
    }

    func testEverySignedFixtureGivesItsExpectedProblem() throws {
        let dir = demo.appendingPathComponent("fixtures/signed")
        let fixtures = try JSONDecoder().decode(SignedFixtures.self,
                                                from: Data(contentsOf: dir.appendingPathComponent("expected.json")))
        XCTAssertEqual(fixtures.cases.count, 5)
        let key = try String(contentsOf: dir.appendingPathComponent(fixtures.trustedKey), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var loaded = 0
        for c in fixtures.cases {
            do {
                _ = try Model.load(contentsOf: dir.appendingPathComponent(c.model), options: LoadOptions(trustedKeys: [key]))
                XCTAssertNil(c.problem, "\(c.model) loaded")
                loaded += 1
            } catch let LedgeError.Signature(problem, detail, message) {
                XCTAssertEqual(problem, c.problem, c.model)
                XCTAssertFalse(detail.isEmpty, c.model)
                XCTAssertTrue(message.contains(detail), message)
            }
        }
        XCTAssertEqual(loaded, 1)
    }

    func testAStoreRoundTripSaysTheActiveVersionAtEveryStep() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ModelStore.open(at: dir)
        let effnet = try read("efficientnet-lite0/model.onnx")
        XCTAssertEqual(try store.versions(name: "main"), ModelVersions(versions: [], active: nil, previous: nil))
        try store.install(name: "main", version: "v1", bytes: effnet)
        try store.install(name: "main", version: "v2", bytes: effnet)
        assertThrows("InvalidArgument", ["no active version"]) { _ = try store.activeVersion(name: "main") }
        let cat = try read(photos[0])
        let want = try load("efficientnet-lite0/model.onnx").classify(cat, topK: 3)
        var steps: [[String?]] = []
        for step in 0 ..< 4 {
            switch step {
            case 0: try store.activate(name: "main", version: "v1")
            case 1: try store.activate(name: "main", version: "v2")
            default: try store.rollback(name: "main")
            }
            let served = try store.classify(cat, model: "main", topK: 3)
            XCTAssertEqual(served.predictions, want)
            let v = try store.versions(name: "main")
            XCTAssertEqual(served.version, try store.activeVersion(name: "main"))
            XCTAssertEqual(served.version, v.active)
            steps.append([served.version, v.previous])
        }
        XCTAssertEqual(steps, [["v1", nil], ["v2", "v1"], ["v1", "v2"], ["v2", "v1"]])
        assertThrows("InvalidArgument", ["installed already"]) {
            try store.install(name: "main", version: "v1", bytes: effnet)
        }
        assertThrows("ModelFormat") { try store.install(name: "main", version: "v3", bytes: Data("junk".utf8)) }
        assertThrows("InvalidArgument", ["no previous version"]) { try store.rollback(name: "other") }
        let reopened = try ModelStore.open(at: dir)
        XCTAssertEqual(try reopened.versions(name: "main"), ModelVersions(versions: ["v1", "v2"], active: "v2", previous: "v1"))

        let memory = try ModelStore.inMemory()
        try memory.install(name: "ocr", version: "1", bytes: read("ppocr-cls/model.onnx"))
        try memory.activate(name: "ocr", version: "1")
        XCTAssertEqual(try memory.classify(read("images/line0_180.png"), model: "ocr", topK: 1).version, "1")
    }

    func testEightThreadsClassifyThroughTheStoreWhileVersionsSwap() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ModelStore.open(at: dir)
        let effnet = try read("efficientnet-lite0/model.onnx")
        try store.install(name: "main", version: "v1", bytes: effnet)
        try store.install(name: "main", version: "v2", bytes: effnet)
        try store.activate(name: "main", version: "v1")
        let cat = try read(photos[0])
        let want = try load("efficientnet-lite0/model.onnx").classify(cat, topK: 3)
        let lock = NSLock()
        var stop = false, seen: [String: Int] = [:], failures: [String] = []
        let group = DispatchGroup()
        for _ in 0 ..< 8 {
            DispatchQueue.global().async(group: group) {
                while true {
                    do {
                        let served = try store.classify(cat, model: "main", topK: 3)
                        lock.lock()
                        seen[served.version, default: 0] += 1
                        if served.predictions != want { failures.append("\(served)") }
                        lock.unlock()
                    } catch {
                        lock.lock(); failures.append("\(error)"); lock.unlock()
                    }
                    lock.lock(); let done = stop; lock.unlock()
                    if done { break }
                }
            }
        }
        for i in 0 ..< 30 {
            if i % 3 == 2 {
                try store.rollback(name: "main")
            } else {
                try store.activate(name: "main", version: i % 2 == 0 ? "v2" : "v1")
            }
        }
        lock.lock(); stop = true; lock.unlock()
        group.wait()
        XCTAssertEqual(failures, [])
        XCTAssertEqual(Set(seen.keys), ["v1", "v2"])
        XCTAssertGreaterThanOrEqual(seen.values.reduce(0, +), 8)
    }

    func testAShadowCandidateIsPromotedOrRejected() throws {
        let store = try ModelStore.inMemory()
        let effnet = try read("efficientnet-lite0/model.onnx")
        try store.install(name: "main", version: "v1", bytes: effnet)
        try store.install(name: "main", version: "v2", bytes: effnet)
        try store.activate(name: "main", version: "v1")
        XCTAssertNil(try store.shadowReport(name: "main"))
        let policy = ShadowPolicy(sampleRate: 0.5, minSamples: 4, maxLatencyRatio: 100)
        try store.setCandidate(name: "main", version: "v2", policy: policy)
        let images = try photos.map(read)
        for i in 0 ..< 8 { _ = try store.classify(images[i % 3], model: "main", topK: 1) }
        XCTAssertEqual(try store.activeVersion(name: "main"), "v2", "promoted")

        try store.install(name: "main", version: "bad", bytes: read("ppocr-cls/model.onnx"))
        try store.setCandidate(name: "main", version: "bad", policy: policy)
        for i in 0 ..< 8 { _ = try store.classify(images[i % 3], model: "main", topK: 1) }
        let r = try XCTUnwrap(try store.shadowReport(name: "main"))
        XCTAssertEqual(r.decision, "rejected")
        XCTAssertEqual(r.samples, 4)
        XCTAssertLessThan(r.agreement, 0.5)
        XCTAssertEqual(try store.activeVersion(name: "main"), "v2")
        assertThrows("InvalidArgument", ["sample_rate"]) {
            try store.setCandidate(name: "main", version: "v1", policy: ShadowPolicy(sampleRate: 0))
        }
    }

    func testABackgroundShadowAnswersWithTheActiveVersionAndPromotesAtTheNextCall() throws {
        let store = try ModelStore.inMemory()
        let effnet = try read("efficientnet-lite0/model.onnx")
        try store.install(name: "main", version: "v1", bytes: effnet)
        try store.install(name: "main", version: "v2", bytes: effnet)
        try store.activate(name: "main", version: "v1")
        let policy = ShadowPolicy(sampleRate: 1, minSamples: 1, maxLatencyRatio: 100, background: true)
        try store.setCandidate(name: "main", version: "v2", policy: policy)
        let cat = try read(photos[0])
        XCTAssertEqual(try store.classify(cat, model: "main", topK: 1).version, "v1")
        let deadline = Date().addingTimeInterval(60)
        while try store.shadowReport(name: "main")?.decision == "pending" {
            XCTAssertLessThan(Date(), deadline, "no decision within a minute")
            Thread.sleep(forTimeInterval: 0.01)
        }
        XCTAssertEqual(try store.shadowReport(name: "main")?.decision, "promoting")
        XCTAssertEqual(try store.activeVersion(name: "main"), "v1")
        XCTAssertEqual(try store.classify(cat, model: "main", topK: 1).version, "v2")
        XCTAssertNil(try store.shadowReport(name: "main"))
    }

    func testStoreStatsAreKeptPerLoadedVersion() throws {
        let store = try ModelStore.inMemory()
        let effnet = try read("efficientnet-lite0/model.onnx")
        for version in ["v1", "v2", "v3"] { try store.install(name: "main", version: version, bytes: effnet) }
        try store.activate(name: "main", version: "v1")
        let cat = try read(photos[0])
        for _ in 0 ..< 3 { _ = try store.classify(cat, model: "main", topK: 1) }
        try store.activate(name: "main", version: "v2")
        _ = try store.classify(cat, model: "main", topK: 1)
        XCTAssertEqual(try store.stats(name: "main", version: "v1").classifications, 3)
        XCTAssertEqual(try store.stats(name: "main", version: "v2").classifications, 1)
        assertThrows("InvalidArgument", ["v3 is not loaded"]) { _ = try store.stats(name: "main", version: "v3") }
    }

    func testStatsHaveErrorsHistogramsAndEntropy() throws {
        let model = try load("efficientnet-lite0/model.onnx")
        for p in photos { _ = try model.classify(read(p), topK: 1) }
        _ = try model.classifyBatch(photos.map(read), topK: 1)
        assertThrows("ImageDecode") { _ = try model.classify(Data([0, 1, 2, 3])) }
        let s = try model.stats()
        XCTAssertEqual(s.classifications, 6)
        XCTAssertEqual(s.confidenceHistogram.count, 10)
        XCTAssertEqual(s.confidenceHistogram.reduce(0, +), 6)
        XCTAssertEqual(s.classHistogram.values.reduce(0, +), 6)
        XCTAssertEqual(s.classHistogram.count, 3)
        let entropy = try XCTUnwrap(s.meanEntropy)
        XCTAssertTrue(entropy > 0 && entropy < 1, "\(entropy)")
        XCTAssertEqual(s.errors, ["ImageDecode": 1])
        XCTAssertNil(s.drift, "the demo manifest has no [baseline]")
    }
}

/// The frames.json rule for detection: each expected detection has an actual one of the same
/// index with IoU ≥ min_iou and |Δscore| ≤ score_tolerance (more detections are allowed).
private func frameMismatches(_ c: FrameCase, _ expected: [FrameDetection], _ actual: [Detection]) -> [String] {
    expected.compactMap { e in
        let best = actual.filter { $0.index == e.index }.max { a, b in
            iou([a.boundingBox.x, a.boundingBox.y, a.boundingBox.width, a.boundingBox.height], e.box)
                < iou([b.boundingBox.x, b.boundingBox.y, b.boundingBox.width, b.boundingBox.height], e.box)
        }
        guard let a = best else { return "class \(e.index): not found" }
        let overlap = iou([a.boundingBox.x, a.boundingBox.y, a.boundingBox.width, a.boundingBox.height], e.box)
        if overlap < (c.minIou ?? 1) { return "class \(e.index) box \(e.box): IoU \(overlap)" }
        if abs(a.score - e.score) > c.scoreTolerance { return "class \(e.index) score \(a.score) vs \(e.score)" }
        return nil
    }
}

private func cgImage(_ rel: String) throws -> CGImage {
    let source = try XCTUnwrap(CGImageSourceCreateWithData(read(rel) as CFData, nil))
    return try XCTUnwrap(CGImageSourceCreateImageAtIndex(source, 0, nil))
}

/// A `CVPixelBuffer` of `format`, `width × height`, filled by `fill` while locked.
private func pixelBuffer(_ format: OSType, _ width: Int, _ height: Int,
                         _ fill: (CVPixelBuffer) throws -> Void) throws -> CVPixelBuffer {
    var created: CVPixelBuffer?
    XCTAssertEqual(CVPixelBufferCreate(nil, width, height, format, nil, &created), kCVReturnSuccess)
    let buffer = try XCTUnwrap(created)
    CVPixelBufferLockBaseAddress(buffer, [])
    defer { CVPixelBufferUnlockBaseAddress(buffer, []) }
    try fill(buffer)
    return buffer
}

/// `image` drawn into a 32BGRA pixel buffer (alpha ignored), as a camera delivers BGRA.
private func bgraBuffer(_ image: CGImage) throws -> CVPixelBuffer {
    try pixelBuffer(kCVPixelFormatType_32BGRA, image.width, image.height) { buffer in
        let context = try XCTUnwrap(CGContext(
            data: CVPixelBufferGetBaseAddress(buffer), width: image.width, height: image.height,
            bitsPerComponent: 8, bytesPerRow: CVPixelBufferGetBytesPerRow(buffer),
            space: CGColorSpaceCreateDeviceRGB(),
            bitmapInfo: CGImageAlphaInfo.noneSkipFirst.rawValue | CGBitmapInfo.byteOrder32Little.rawValue))
        context.draw(image, in: CGRect(x: 0, y: 0, width: image.width, height: image.height))
    }
}

final class CameraTests: XCTestCase {
    func testEveryFrameVectorMatchesTheReference() throws {
        let vectors = try frameVectors()
        var models: [String: Model] = [:]
        var failures: [String] = []
        var ran = 0
        for c in vectors.cases {
            let model = try models[c.model] ?? load(c.model)
            models[c.model] = model
            let data = try read("vectors/\(c.file)")
            let planes = c.planes.map { data.subdata(in: $0[0] ..< $0[0] + $0[1]) }
            let layout = try c.layout.frameLayout()
            switch (c.task, c.expected) {
            case let ("classify", .classify(index, probability)):
                let got = try model.classifyFrame(planes: planes, layout: layout, options: ClassifyOptions(maxResults: 1))
                if got[0].index != index || abs(got[0].score - probability) > c.scoreTolerance {
                    failures.append("\(c.name): top-1 \(got[0].index) p \(got[0].score) vs \(index) p \(probability)")
                }
            case let ("detect", .detect(expected)):
                let got = try model.detectFrame(planes: planes, layout: layout, options: c.options?.options ?? DetectOptions())
                failures += frameMismatches(c, expected, got).map { "\(c.name): \($0)" }
            default:
                failures.append("\(c.name): unknown task \(c.task)")
            }
            ran += 1
        }
        XCTAssertEqual(ran, vectors.cases.count)
        XCTAssertTrue(failures.isEmpty, failures.joined(separator: "\n"))
    }

    /// An NV12 vector copied into a CVPixelBuffer (CoreVideo picks its own bytes per row): the
    /// adapter reads the buffer's strides and range and gives the vector's answer.
    func testAnNV12PixelBufferGivesTheVectorsAnswer() throws {
        let c = try XCTUnwrap(try frameVectors().cases.first { $0.task == "classify" && $0.layout.format == "nv12" })
        guard case let .classify(index, probability) = c.expected else { return XCTFail("a classify case") }
        let data = try read("vectors/\(c.file)")
        let width = Int(c.layout.width), height = Int(c.layout.height)
        let buffer = try pixelBuffer(kCVPixelFormatType_420YpCbCr8BiPlanarFullRange, width, height) { buffer in
            for plane in 0 ..< 2 {
                let destination = try XCTUnwrap(CVPixelBufferGetBaseAddressOfPlane(buffer, plane))
                let destinationStride = CVPixelBufferGetBytesPerRowOfPlane(buffer, plane)
                let rowBytes = plane == 0 ? width : 2 * ((width + 1) / 2)
                let sourceStride = Int(c.layout.planes[plane].rowStride)
                data.withUnsafeBytes { source in
                    for row in 0 ..< CVPixelBufferGetHeightOfPlane(buffer, plane) {
                        memcpy(destination + row * destinationStride,
                               source.baseAddress! + c.planes[plane][0] + row * sourceStride, rowBytes)
                    }
                }
            }
        }
        let frame = try CameraFrame(buffer, rotationDegrees: Int(c.layout.rotationDegrees), mirror: c.layout.mirror)
        XCTAssertEqual(frame.layout.format, .nv12)
        XCTAssertEqual(frame.layout.colorRange, .full)
        XCTAssertEqual(frame.layout.planes.map(\.rowStride),
                       (0 ..< 2).map { UInt32(CVPixelBufferGetBytesPerRowOfPlane(buffer, $0)) })
        let got = try load(c.model).classify(buffer, rotationDegrees: Int(c.layout.rotationDegrees),
                                            mirror: c.layout.mirror, topK: 1)
        XCTAssertEqual(got[0].index, index)
        XCTAssertEqual(got[0].score, probability, accuracy: c.scoreTolerance)
    }

    func testABGRAPixelBufferClassifiesAsItsImage() throws {
        let model = try load("efficientnet-lite0/model.onnx")
        let image = try cgImage("images/chelsea.png")
        let buffer = try bgraBuffer(image)
        let want = try model.classify(image, topK: 3)
        let got = try model.classify(buffer, topK: 3)
        XCTAssertEqual(got.map(\.index), want.map(\.index))
        XCTAssertEqual(got[0].score, want[0].score, accuracy: 1e-4)
        XCTAssertEqual(try CameraFrame(buffer).layout.planes[0].pixelStride, 4)
        // Turned by 180° the frame is the cat upside down: another answer than upright.
        XCTAssertNotEqual(try model.classify(buffer, rotationDegrees: 180, topK: 3), got)
        let boxes = try load("ssd-mobilenetv2-oid/model.onnx").detect(buffer, options: DetectOptions(scoreThreshold: 0.4))
        XCTAssertEqual(boxes.map(\.label), ["Cat"])
    }

    func testUnsupportedBuffersAndRotationsAreTypedErrors() throws {
        let model = try load("efficientnet-lite0/model.onnx")
        let argb = try pixelBuffer(kCVPixelFormatType_32ARGB, 8, 8) { _ in }
        assertThrows("InvalidArgument", ["'32'", "kCVPixelFormatType_32BGRA"]) { _ = try model.classify(argb) }
        let bgra = try bgraBuffer(try cgImage("images/chelsea.png"))
        assertThrows("InvalidArgument", ["got -90"]) { _ = try model.classify(bgra, rotationDegrees: -90) }
        assertThrows("InvalidArgument", ["0, 90, 180 or 270", "got 45"]) { _ = try model.classify(bgra, rotationDegrees: 45) }
        assertThrows("InvalidArgument", ["region"]) {
            _ = try model.classify(bgra, region: BoundingBox(x: 0, y: 0, width: 10_000, height: 10))
        }
    }

    func testOrientationsTurnAsExifSays() {
        let table: [(CGImagePropertyOrientation, Int, Bool)] = [
            (.up, 0, false), (.upMirrored, 0, true), (.down, 180, false), (.downMirrored, 180, true),
            (.leftMirrored, 90, true), (.right, 90, false), (.rightMirrored, 270, true), (.left, 270, false),
        ]
        for (orientation, degrees, mirror) in table {
            XCTAssertEqual(orientation.ledgeRotation.degrees, degrees, "\(orientation.rawValue)")
            XCTAssertEqual(orientation.ledgeRotation.mirror, mirror, "\(orientation.rawValue)")
        }
    }

    /// A fake camera four times faster than the model: frames are dropped, every result carries
    /// its own frame's timestamp and the right top-1, and the counts add up.
    func testALiveStreamDropsFramesAndKeepsEachFramesTimestamp() async throws {
        let model = try load("efficientnet-lite0/model.onnx")
        let cat = try bgraBuffer(try cgImage("images/chelsea.png"))
        let cup = try bgraBuffer(try cgImage("images/coffee.png"))
        let started = ProcessInfo.processInfo.systemUptime
        let catIndex = try model.classify(cat, topK: 1)[0].index
        let period = (ProcessInfo.processInfo.systemUptime - started) / 4
        let cupIndex = try model.classify(cup, topK: 1)[0].index
        XCTAssertNotEqual(catIndex, cupIndex)

        let stream = model.classifyStream(topK: 1)
        let collected = Task { () -> [LiveResult<[Prediction]>] in
            var all: [LiveResult<[Prediction]>] = []
            for await result in stream.results { all.append(result) }
            return all
        }
        var expected: [CMTimeValue: UInt64] = [:]
        var accepted = 0
        for i in 0 ..< 40 {
            let timestamp = CMTime(value: CMTimeValue(i), timescale: 30)
            expected[timestamp.value] = i % 2 == 0 ? catIndex : cupIndex
            if stream.submit(i % 2 == 0 ? cat : cup, timestamp: timestamp) { accepted += 1 }
            try await Task.sleep(nanoseconds: UInt64(period * 1e9))
        }
        let running = stream.stats
        stream.close()
        let results = await collected.value
        let s = stream.stats
        XCTAssertEqual(s.submitted, 40)
        XCTAssertGreaterThan(s.dropped, 0)
        XCTAssertGreaterThanOrEqual(s.processed, 2)
        XCTAssertEqual(s.submitted, s.processed + s.dropped + s.failed)
        XCTAssertEqual(results.count, accepted)
        XCTAssertGreaterThan(running.framesPerSecond, 0)
        for r in results {
            XCTAssertEqual(try r.result.get()[0].index, expected[r.timestamp.value], "frame \(r.timestamp.value)")
        }
        XCTAssertEqual(results.map(\.timestamp.value), results.map(\.timestamp.value).sorted())
        XCTAssertFalse(stream.submit(cat, timestamp: .zero), "closed")
    }

    func testALiveStreamDeliversErrorsAsResults() async throws {
        let stream = try load("efficientnet-lite0/model.onnx").classifyStream()
        let argb = try pixelBuffer(kCVPixelFormatType_32ARGB, 8, 8) { _ in }
        XCTAssertTrue(stream.submit(argb, timestamp: CMTime(value: 7, timescale: 1)))
        stream.close()
        var results: [LiveResult<[Prediction]>] = []
        for await r in stream.results { results.append(r) }
        XCTAssertEqual(results.count, 1)
        XCTAssertEqual(results[0].timestamp.value, 7)
        XCTAssertThrowsError(try results[0].result.get()) { error in
            XCTAssertEqual((error as? LedgeError)?.kind, "InvalidArgument")
        }
        XCTAssertEqual(stream.stats.failed, 1)
    }
}

final class ReadmeTests: XCTestCase {
    /// The snippet of bindings/uniffi/README.md ("Swift"), with the demo model and photo.
    func testQuickStart() throws {
        let model = try Model.load(contentsOf: demo.appendingPathComponent("efficientnet-lite0/model.onnx"))
        let imageData = try read("images/chelsea.png")
        let top3 = try model.classify(imageData, topK: 3)
        for p in top3 { print(p.score, p.label ?? "?") }
        XCTAssertEqual(top3.first?.label, "tiger cat")
        do { _ = try model.classify(Data()) } catch let e as LedgeError { print(e.kind, e.message) }
    }

    /// The detection and embedding snippet of ios/README.md, with the demo models and photos.
    func testTasksQuickStart() throws {
        let ssdURL = demo.appendingPathComponent("ssd-mobilenetv2-oid/model.onnx")
        let embedderURL = demo.appendingPathComponent("efficientnet-lite0-embed/model.onnx")
        let photoData = try read("images/chelsea.png")
        let otherPhotoURL = demo.appendingPathComponent("images/chelsea_mirror.png")

        let detector = try Model.load(contentsOf: ssdURL)
        let found = try detector.detect(photoData, options: DetectOptions(scoreThreshold: 0.4))
        for d in found {
            let box = d.boundingBox
            print(d.label ?? "?", d.score, box.x, box.y, box.width, box.height, d.keypoints.count)
        }
        XCTAssertEqual(found.map(\.label), ["Cat"])

        let embedder = try Model.load(contentsOf: embedderURL)
        let a = try embedder.embed(photoData)
        let b = try embedder.embed(contentsOf: otherPhotoURL)
        XCTAssertGreaterThan(try a.cosineSimilarity(b), 0.9)
    }

    /// The lifecycle snippet of ios/README.md, with the signed fixture, its key and the photos.
    func testLifecycleQuickStart() throws {
        let signed = demo.appendingPathComponent("fixtures/signed")
        let publisherKey = try String(contentsOf: signed.appendingPathComponent("test.pub"), encoding: .utf8)
        let modelURL = signed.appendingPathComponent("signed.onnx")
        let photoData = try read("images/line0_0.png")
        let otherPhotoData = try read("images/line0_180.png")
        let modelsFolderURL = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: modelsFolderURL) }
        let downloadedData = try Data(contentsOf: modelURL)

        let options = LoadOptions(trustedKeys: [publisherKey], cache: CacheOptions(maxEntries: 256))
        let model = try Model.load(contentsOf: modelURL, options: options)
        let batch = try model.classifyBatch([photoData, otherPhotoData], topK: 1)
        XCTAssertEqual(batch.map { $0[0].index }, [0, 1])
        let stats = try model.stats()
        XCTAssertEqual(stats.confidenceHistogram.reduce(0, +), 2)

        let store = try ModelStore.open(at: modelsFolderURL, options: options)
        try store.install(name: "main", version: "v1", bytes: downloadedData)
        try store.activate(name: "main", version: "v1")
        try store.install(name: "main", version: "v2", bytes: downloadedData)
        try store.activate(name: "main", version: "v2")
        let served = try store.classify(photoData, model: "main", topK: 3)
        XCTAssertEqual(served.version, "v2")
        try store.rollback(name: "main")
        XCTAssertEqual(try store.versions(name: "main"), ModelVersions(versions: ["v1", "v2"], active: "v1", previous: "v2"))
        try store.setCandidate(name: "main", version: "v2", policy: ShadowPolicy(sampleRate: 0.1, background: true))
        XCTAssertEqual(try store.shadowReport(name: "main")?.decision, "pending")
        let candidate = try store.stats(name: "main", version: "v2")
        XCTAssertEqual(candidate.classifications, 1)
        assertThrows("Signature") {
            try store.install(name: "main", version: "v3", bytes: read("fixtures/signed/unsigned.onnx"))
        }
    }
}
