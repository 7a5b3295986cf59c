// XCTests of the Swift package: every shared vector (the same rules as core/tests/vectors.rs,
// core/tests/tasks.rs and the Python tests: classification, detection, embeddings), a sample of
// the bad-input catalogue, the task errors, threads, and the README snippet.
// demo-models/ is read from the repository (LEDGE_DEMO_MODELS overrides); see ios/README.md.

import Foundation
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
}
