//! Where a model spends its time: a per-operator profile of the optimized plan, and the int8
//! truth report (which share of the multiply-accumulates ran in integer kernels).

use crate::clock::Instant;
use std::collections::BTreeMap;

use serde::Serialize;
use tract_onnx::prelude::*;

use super::tract_chain;
use crate::error::{Error, Result};

/// Time and work of one operator type of the optimized plan (tract's op names: `OptMatMul`,
/// `DepthWise`, `Conv`, ...).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpProfile {
    /// tract's name of the operator.
    pub op: String,
    /// How many nodes of the plan run it.
    pub nodes: usize,
    /// Time per inference: the sum over its nodes of each node's median, in milliseconds.
    pub ms: f64,
    /// Share of the profile's total time, 0–1.
    pub share: f64,
    /// Multiply-accumulates per inference, from tract's cost model.
    pub macs: u64,
    /// Of those, the ones computed on integer types (int8 kernels accumulating in int32).
    pub integer_macs: u64,
    /// Achieved throughput, 10⁹ multiply-accumulates a second (0 for ops that do none).
    pub gmacs_per_s: f64,
}

/// A per-operator profile over several runs of the same inputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    /// Runs measured (after one warm-up run).
    pub runs: usize,
    /// Sum of the per-node medians, in milliseconds: one inference without the profiler's own
    /// bookkeeping.
    pub total_ms: f64,
    /// Multiply-accumulates per inference.
    pub macs: u64,
    /// Of those, the ones computed on integer types.
    pub integer_macs: u64,
    /// Operator types, slowest first.
    pub ops: Vec<OpProfile>,
}

impl Profile {
    /// The int8 truth: integer MACs over all MACs, 0–1 (0 for a model without MACs).
    pub fn integer_mac_fraction(&self) -> f64 {
        if self.macs == 0 {
            0.0
        } else {
            self.integer_macs as f64 / self.macs as f64
        }
    }

    /// A fixed-width text table, slowest operator first, with the int8 truth line at the end.
    pub fn to_table(&self) -> String {
        let mut out = format!(
            "{:<22} {:>5} {:>9} {:>6} {:>12} {:>8} {:>8}\n",
            "operator", "nodes", "ms", "share", "MACs", "GMAC/s", "int8"
        );
        for op in &self.ops {
            let int8 = if op.macs == 0 {
                "-".to_string()
            } else {
                format!("{:.0}%", 100.0 * op.integer_macs as f64 / op.macs as f64)
            };
            out += &format!(
                "{:<22} {:>5} {:>9.3} {:>5.1}% {:>12} {:>8.1} {:>8}\n",
                op.op,
                op.nodes,
                op.ms,
                100.0 * op.share,
                op.macs,
                op.gmacs_per_s,
                int8
            );
        }
        out += &format!(
            "total {:.3} ms over {} runs (medians); {} MACs, {:.1}% of them in integer kernels\n",
            self.total_ms,
            self.runs,
            self.macs,
            100.0 * self.integer_mac_fraction()
        );
        out
    }
}

/// Profiles `plan` on `inputs`: one warm-up run, then `runs` runs timing every node.
pub(crate) fn profile(
    plan: &Arc<TypedRunnableModel>,
    inputs: TVec<TValue>,
    runs: usize,
) -> Result<Profile> {
    let model = plan.model();
    let mut times: Vec<Vec<f64>> = vec![vec![]; model.nodes().len()];
    let mut state = plan
        .spawn()
        .map_err(|e| Error::Inference(tract_chain(&e)))?;
    for run in 0..=runs.max(1) {
        state
            .run_plan_with_eval(inputs.clone(), |ctx, op_state, node, input| {
                let started = Instant::now();
                let out = tract_core::plan::eval(ctx, op_state, node, input);
                if run > 0 {
                    times[node.id].push(started.elapsed().as_secs_f64() * 1e3);
                }
                out
            })
            .map_err(|e| Error::Inference(tract_chain(&e)))?;
    }
    let mut by_op: BTreeMap<String, OpProfile> = BTreeMap::new();
    for node in model.nodes() {
        let (macs, integer) = node_macs(model, node)?;
        let entry = by_op
            .entry(node.op.name().to_string())
            .or_insert_with(|| OpProfile {
                op: node.op.name().to_string(),
                nodes: 0,
                ms: 0.0,
                share: 0.0,
                macs: 0,
                integer_macs: 0,
                gmacs_per_s: 0.0,
            });
        entry.nodes += 1;
        let node_times = &mut times[node.id];
        node_times.sort_by(f64::total_cmp);
        entry.ms += node_times.get(node_times.len() / 2).copied().unwrap_or(0.0);
        entry.macs += macs;
        entry.integer_macs += integer;
    }
    let total_ms: f64 = by_op.values().map(|o| o.ms).sum();
    let mut ops: Vec<OpProfile> = by_op
        .into_values()
        .filter(|o| o.ms > 0.0 || o.macs > 0)
        .map(|mut o| {
            o.share = if total_ms > 0.0 { o.ms / total_ms } else { 0.0 };
            o.gmacs_per_s = if o.ms > 0.0 {
                o.macs as f64 / (o.ms * 1e6)
            } else {
                0.0
            };
            o
        })
        .collect();
    ops.sort_by(|a, b| b.ms.total_cmp(&a.ms));
    Ok(Profile {
        runs: runs.max(1),
        total_ms,
        macs: ops.iter().map(|o| o.macs).sum(),
        integer_macs: ops.iter().map(|o| o.integer_macs).sum(),
        ops,
    })
}

/// Multiply-accumulates of one node from tract's cost model: `(all, on integer types)`.
pub(crate) fn node_macs(model: &TypedModel, node: &TypedNode) -> Result<(u64, u64)> {
    let facts = model
        .node_input_facts(node.id)
        .map_err(|e| Error::Inference(tract_chain(&e)))?;
    let costs = node
        .op
        .cost(&facts)
        .map_err(|e| Error::Inference(tract_chain(&e)))?;
    let (mut macs, mut integer) = (0u64, 0u64);
    for (cost, n) in &costs {
        if let tract_core::ops::Cost::FMA(dt) = cost {
            let n = n.to_i64().unwrap_or(0).max(0) as u64;
            macs += n;
            if dt.is_integer() {
                integer += n;
            }
        }
    }
    Ok((macs, integer))
}
