package dev.ledge

import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.TestInstance
import kotlin.math.abs

/**
 * The shared detection and embedding vectors (demo-models/vectors/detect.json and embed.json) with the
 * rule every language applies (see [detectionMismatches]; embeddings: cosine with the reference's ≥
 * `min_cosine`, pairs' cosine within `tolerance`). A file without cases fails.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TaskVectorsTest {
    private val models = HashMap<String, LedgeModel>()
    private fun model(rel: String) = models.getOrPut(rel) { load(rel) }

    @AfterAll
    fun closeModels() = models.values.forEach { it.close() }

    @TestFactory
    fun everyDetectionVectorMatchesTheReference(): List<DynamicTest> {
        val all = detectCases()
        assertTrue(all.isNotEmpty(), "detect.json has no cases")
        assertTrue(all.any { it.expected.isNotEmpty() }, "every detect.json case expects nothing")
        return all.map { case ->
            DynamicTest.dynamicTest(case.name) {
                val got = model(case.model).detect(read(case.image), case.options)
                val problems = detectionMismatches(case, got)
                assertTrue(problems.isEmpty(), "${case.name}: ${problems.joinToString("; ")}\n  got $got")
            }
        }
    }

    @TestFactory
    fun everyEmbeddingVectorMatchesTheReference(): List<DynamicTest> {
        val (cases, pairs) = embedVectors()
        assertTrue(cases.isNotEmpty(), "embed.json has no cases")
        assertTrue(pairs.isNotEmpty(), "embed.json has no pairs")
        val caseTests = cases.map { case ->
            DynamicTest.dynamicTest(case.name) {
                val got = model(case.model).embed(read(case.image))
                assertEquals(case.expected.size, got.size, "${case.name}: embedding size")
                val cosine = got.cosineSimilarity(case.expected)
                println("cosine with the reference ${case.name}: ${"%.6f".format(cosine)}")
                assertTrue(cosine >= case.minCosine, "${case.name}: cosine $cosine < ${case.minCosine}")
            }
        }
        val pairTests = pairs.map { pair ->
            DynamicTest.dynamicTest("${pair.model}: ${pair.a} ~ ${pair.b}") {
                val m = model(pair.model)
                val cosine = m.embed(read(pair.a)).cosineSimilarity(m.embed(read(pair.b)))
                assertTrue(
                    abs(cosine - pair.cosine) <= pair.tolerance,
                    "${pair.a} ~ ${pair.b}: cosine $cosine vs ${pair.cosine} (tolerance ${pair.tolerance})",
                )
            }
        }
        return caseTests + pairTests
    }
}
