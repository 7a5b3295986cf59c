// XCTests of the Swift package: every shared vector (the same rule as core/tests/vectors.rs and
// the Python tests), a sample of the bad-input catalogue, threads, and the README snippet.
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
}
