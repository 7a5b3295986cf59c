//! How much memory a typed graph needs at its peak: the check behind
//! [`crate::Limits::max_plan_bytes`], made before tract's optimizer folds constants or allocates
//! anything.
//!
//! tract runs the nodes in the order [`TypedModel::eval_order_opt_ram`] gives and drops each
//! value after its last consumer (`build_flush_list` in tract's plan), keeping constants and the
//! graph's outputs. So the estimate walks that order: a tensor is alive from the node that
//! produces it to its last consumer (to the end for a graph output), constants count once for the
//! whole run, and the peak is the largest sum of what is alive during one node (its inputs and
//! its outputs included). The graph is the typed one, before the optimizer fuses nodes (a Relu
//! after a Conv, a BatchNorm into it), so the estimate is above what the optimized plan allocates
//! rather than below; core/tests/plan_memory.rs measures the ratio on a detector-sized model.

use tract_onnx::prelude::*;

use crate::error::{Limit, Result};
use crate::options::Limits;

/// What a graph's tensors need, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PlanMemory {
    /// Constants (weights, folded shapes), alive for the whole run.
    pub constants: u64,
    /// The most bytes of non-constant tensors alive at once.
    pub peak_activations: u64,
    /// Every tensor the graph produces, summed (the old, far too pessimistic measure).
    pub sum: u64,
}

impl PlanMemory {
    /// The estimate checked against the limit: constants plus the activation peak.
    pub fn peak(&self) -> u64 {
        self.constants.saturating_add(self.peak_activations)
    }
}

/// Bytes of a tensor fact, if its shape is known (a shape that depends on the data, such as
/// NonZero's output, is not counted).
fn fact_bytes(fact: &TypedFact) -> Option<u64> {
    let shape = fact.shape.as_concrete()?;
    let elements = shape
        .iter()
        .try_fold(1u64, |n, &d| n.checked_mul(d as u64))
        .unwrap_or(u64::MAX);
    Some(elements.saturating_mul(fact.datum_type.size_of() as u64))
}

/// The memory `model` needs along tract's execution order (module docs).
pub(crate) fn memory(model: &TypedModel) -> TractResult<PlanMemory> {
    let order = model.eval_order_opt_ram().or_else(|_| model.eval_order())?;
    let nodes = model.nodes();
    let mut step_of = vec![usize::MAX; nodes.len()];
    for (step, &node) in order.iter().enumerate() {
        step_of[node] = step;
    }
    // The step after which each node's outputs are dropped.
    let mut last_use: Vec<usize> = order.iter().map(|&n| step_of[n]).collect();
    for (step, &node) in order.iter().enumerate() {
        for input in &nodes[node].inputs {
            let producer = step_of[input.node];
            if producer != usize::MAX {
                last_use[producer] = last_use[producer].max(step);
            }
        }
    }
    for output in model.output_outlets()? {
        let producer = step_of[output.node];
        if producer != usize::MAX {
            last_use[producer] = order.len();
        }
    }
    let mut freed_after: Vec<Vec<usize>> = vec![Vec::new(); order.len() + 1];
    let mut memory = PlanMemory {
        constants: 0,
        peak_activations: 0,
        sum: 0,
    };
    let mut bytes_of = vec![0u64; order.len()];
    for (step, &node) in order.iter().enumerate() {
        let bytes = nodes[node]
            .outputs
            .iter()
            .filter_map(|o| fact_bytes(&o.fact))
            .fold(0u64, u64::saturating_add);
        memory.sum = memory.sum.saturating_add(bytes);
        if nodes[node].op_is::<tract_core::ops::konst::Const>() {
            memory.constants = memory.constants.saturating_add(bytes);
        } else {
            bytes_of[step] = bytes;
            freed_after[last_use[step]].push(step);
        }
    }
    let mut alive = 0u64;
    for step in 0..order.len() {
        alive = alive.saturating_add(bytes_of[step]);
        memory.peak_activations = memory.peak_activations.max(alive);
        for &done in &freed_after[step] {
            alive = alive.saturating_sub(bytes_of[done]);
        }
    }
    Ok(memory)
}

/// Refuses a graph whose estimated peak ([`memory`]) exceeds `max_plan_bytes`.
///
/// # Errors
/// [`crate::Error::LimitExceeded`] with the estimate as its value;
/// [`crate::Error::ModelFormat`] when tract cannot order the graph.
pub(crate) fn check(model: &TypedModel, limits: &Limits) -> Result<PlanMemory> {
    let memory = memory(model).map_err(|e| crate::Error::ModelFormat(super::tract_chain(&e)))?;
    log::debug!(
        "the graph needs about {} bytes at its peak ({} of constants; all its tensors sum to {})",
        memory.peak(),
        memory.constants,
        memory.sum
    );
    limits.check(Limit::MaxPlanBytes, memory.peak())?;
    Ok(memory)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_core::ops::math::add;
    use tract_core::ops::nn::sigmoid;

    fn f32s(n: usize) -> TypedFact {
        f32::fact([n])
    }

    /// x → a → b → c, d = a + c, e = d + w: `a` stays alive until `d`.
    #[test]
    fn a_tensor_lives_from_its_producer_to_its_last_consumer() {
        let mut model = TypedModel::default();
        let x = model.add_source("x", f32s(100)).unwrap();
        let w = model.add_const("w", tensor1(&[1f32; 100])).unwrap();
        let a = model.wire_node("a", sigmoid(), &[x]).unwrap()[0];
        let b = model.wire_node("b", sigmoid(), &[a]).unwrap()[0];
        let c = model.wire_node("c", sigmoid(), &[b]).unwrap()[0];
        let d = model.wire_node("d", add(), &[a, c]).unwrap()[0];
        let e = model.wire_node("e", add(), &[d, w]).unwrap()[0];
        model.select_output_outlets(&[e]).unwrap();
        let m = memory(&model).unwrap();
        assert_eq!(m.constants, 400);
        assert_eq!(m.sum, 7 * 400);
        // While c runs: a, b and c are alive (x died after a); while d runs: a, c and d.
        assert_eq!(m.peak_activations, 3 * 400);
        assert_eq!(m.peak(), 4 * 400);
    }

    #[test]
    fn a_chain_needs_two_tensors_at_a_time() {
        let mut model = TypedModel::default();
        let mut wire = model.add_source("x", f32s(1000)).unwrap();
        for i in 0..20 {
            wire = model
                .wire_node(format!("s{i}"), sigmoid(), &[wire])
                .unwrap()[0];
        }
        model.select_output_outlets(&[wire]).unwrap();
        let m = memory(&model).unwrap();
        assert_eq!(m.sum, 21 * 4000);
        assert_eq!(m.peak_activations, 2 * 4000);
    }

    #[test]
    fn graph_outputs_live_to_the_end() {
        let mut model = TypedModel::default();
        let x = model.add_source("x", f32s(1000)).unwrap();
        let early = model.wire_node("early", sigmoid(), &[x]).unwrap()[0];
        let mut wire = early;
        for i in 0..5 {
            wire = model
                .wire_node(format!("s{i}"), sigmoid(), &[wire])
                .unwrap()[0];
        }
        model.select_output_outlets(&[early, wire]).unwrap();
        let m = memory(&model).unwrap();
        // `early` stays while the chain runs two at a time beside it.
        assert_eq!(m.peak_activations, 3 * 4000);
    }
}
