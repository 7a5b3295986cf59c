package dev.ledge

import kotlinx.serialization.json.Json
import org.json.JSONObject
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.TestInstance
import java.io.File
import java.nio.ByteBuffer
import kotlin.math.abs

/**
 * Every case of the shared frame vectors (demo-models/vectors/frames.json), as every language runs them: the
 * camera frame's planes (views of one direct buffer holding the file, read in place), its layout decoded from
 * the file's JSON by the Kotlin [FrameLayout] itself, and the rule of the file — classify: the expected top-1
 * with a probability within `score_tolerance`; detect: each expected detection found (same class, IoU ≥
 * `min_iou`, score within `score_tolerance`). The byte-level conversion cases are Rust's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FrameVectorsTest {
    private val models = HashMap<String, LedgeModel>()
    private fun model(rel: String) = models.getOrPut(rel) { load(rel) }

    @AfterAll
    fun closeModels() = models.values.forEach { it.close() }

    /** Reads the Kotlin types from the file's JSON: unknown fields refused, so the schemas cannot drift apart. */
    private val json = Json

    @TestFactory
    fun everyFrameCaseMatchesTheReference(): List<DynamicTest> {
        val dir = File(demo, "vectors")
        val root = JSONObject(File(dir, "frames.json").readText())
        assertEquals(1, root.getInt("format"))
        val all = root.getJSONArray("cases")
        assertTrue(all.length() > 0, "frames.json has no cases")
        val tests = (0 until all.length()).map { i ->
            val c = all.getJSONObject(i)
            val name = c.getString("name")
            DynamicTest.dynamicTest(name) {
                val file = File(dir, c.getString("file")).readBytes()
                val whole = ByteBuffer.allocateDirect(file.size).put(file).flip()
                val spans = c.getJSONArray("planes")
                val planes = (0 until spans.length()).map { p ->
                    val (offset, length) = spans.getJSONArray(p).let { it.getInt(0) to it.getInt(1) }
                    whole.duplicate().position(offset).limit(offset + length)
                }
                val layout = json.decodeFromString(FrameLayout.serializer(), c.getJSONObject("layout").toString())
                val model = model(c.getString("model"))
                val tolerance = c.getDouble("score_tolerance").toFloat()
                when (val task = c.getString("task")) {
                    "classify" -> {
                        val (index, score) = c.getJSONArray("expected").getJSONArray(0).let { it.getInt(0) to it.getDouble(1).toFloat() }
                        val top = model.classifyFrame(planes, layout, 1)[0]
                        println("frame vector $name: top-1 ${top.index} ${top.score} (reference $index $score)")
                        assertEquals(index, top.index, "$name: top-1 $top")
                        assertTrue(abs(top.score - score) <= tolerance, "$name: p ${top.score} vs $score (tolerance $tolerance)")
                    }
                    "detect" -> {
                        val options = c.optJSONObject("options")?.let { json.decodeFromString(DetectOptions.serializer(), it.toString()) } ?: DetectOptions()
                        val case = DetectCase(
                            name, c.getString("model"), c.getString("file"), options, expectedDetections(c.getJSONArray("expected"), name),
                            minIou = c.getDouble("min_iou").toFloat(), scoreTolerance = tolerance,
                        )
                        assertTrue(case.expected.isNotEmpty(), "$name expects nothing")
                        val got = model.detectFrame(planes, layout, options)
                        val problems = detectionMismatches(case, got, sameCount = false)
                        assertTrue(problems.isEmpty(), "$name: ${problems.joinToString("; ")}\n  got $got")
                    }
                    else -> throw AssertionError("$name: unknown task $task")
                }
            }
        }
        assertEquals(all.length(), tests.size)
        return tests
    }
}
