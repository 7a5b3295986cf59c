package dev.ledge

import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.TestInstance
import kotlin.math.abs

/**
 * Every shared test vector (demo-models/vectors/cases.json), with the rule of core/tests/vectors.rs: the
 * top-1 index equals the reference's, and each expected class's score is within the case's tolerance.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VectorsTest {
    private val models = HashMap<String, LedgeModel>()
    private val worst = java.util.TreeMap<String, Float>()

    @AfterAll
    fun closeModels() {
        worst.forEach { (k, v) -> println("max |Δscore| $k: ${"%.5f".format(v)}") }
        models.values.forEach { it.close() }
    }

    @TestFactory
    fun everyVectorMatchesTheReference(): List<DynamicTest> {
        val all = cases()
        assertTrue(all.size >= 38, "expected the full vector set, found ${all.size}")
        return all.map { case -> DynamicTest.dynamicTest(case.name) { check(case) } }
    }

    private fun check(case: Case) {
        val model = models.getOrPut(case.model) { load(case.model) }
        val classes = model.info.outputs[0].shape.fold(1L) { a, d -> a * d }.toInt()
        val got = when (case.level) {
            "tensor" -> model.classifyTensor(readNpy(read(case.tensor)), classes)
            "image" -> model.classify(read(case.image), classes)
            else -> error("unknown level ${case.level}")
        }
        assertEquals(classes, got.size)
        val score = got.associate { it.index to it.score }
        assertEquals(case.expected[0].index, got[0].index, "${case.name}: top-1")
        assertEquals(case.expected[0].label, got[0].label, "${case.name}: top-1 label")
        for (e in case.expected) {
            val diff = abs(score.getValue(e.index) - e.score)
            val key = "${case.model} ${case.level}"
            worst[key] = maxOf(worst[key] ?: 0f, diff)
            assertTrue(
                diff <= case.tolerance,
                "${case.name}: index ${e.index} score ${score[e.index]} vs ${e.score} (tolerance ${case.tolerance})",
            )
        }
    }
}
