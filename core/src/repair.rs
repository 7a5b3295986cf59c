//! Load-time graph repairs for patterns tract would compute wrongly.

use tract_core::ops::element_wise::ElementWiseOp;
use tract_core::ops::quant::{DequantizeLinearF32, QuantizeLinearI8, QuantizeLinearU8};
use tract_onnx::prelude::*;

/// Repairs quantized non-element-wise chains such as `DequantizeLinear → Softmax →
/// QuantizeLinear` (QDQ models whose Softmax was quantized).
///
/// tract's decluttering folds any single-successor chain between a `DequantizeLinear` and a
/// `QuantizeLinear` whose axes map one-to-one into a 256-entry lookup table. That is right for
/// element-wise ops but not for Softmax, which reads the whole axis: tract 0.23.9 then returns
/// 1.0 for every class. The repair rewrites the `DequantizeLinear` that starts such a chain into
/// the equivalent `cast → sub(zero point) → mul(scale)`, which computes the same values but is
/// not a fold point, so the chain runs as written.
///
/// Returns one line per repaired node.
pub(crate) fn quantized_non_elementwise_chains(model: &mut TypedModel) -> TractResult<Vec<String>> {
    let mut repaired = vec![];
    for id in model.eval_order()? {
        let node = model.node(id);
        let Some(dq) = node.op_as::<DequantizeLinearF32>() else {
            continue;
        };
        let Some(culprit) = folded_culprit(model, id)? else {
            continue;
        };
        let (scale, zero_point, name, input) =
            (dq.scale, dq.zero_point, node.name.clone(), node.inputs[0]);
        let rank = model.outlet_fact(input)?.rank();
        let mut patch = TypedModelPatch::default();
        let x = patch.tap_model(model, input)?;
        let zp = patch.add_const(
            format!("{name}.ledge_zero_point"),
            tensor0(zero_point as f32).broadcast_into_rank(rank)?,
        )?;
        let sc = patch.add_const(
            format!("{name}.ledge_scale"),
            tensor0(scale).broadcast_into_rank(rank)?,
        )?;
        let w = patch.wire_node(
            format!("{name}.ledge_cast"),
            tract_core::ops::cast::cast(f32::datum_type()),
            &[x],
        )?;
        let w = patch.wire_node(
            format!("{name}.ledge_sub"),
            tract_core::ops::math::sub(),
            &[w[0], zp],
        )?;
        let w = patch.wire_node(
            format!("{name}.ledge_mul"),
            tract_core::ops::math::mul(),
            &[w[0], sc],
        )?;
        patch.shunt_outside(model, id.into(), w[0])?;
        patch.apply(model)?;
        log::warn!(
            "repaired quantized {culprit} after DequantizeLinear '{name}': the engine would \
             otherwise fold it into a wrong lookup table"
        );
        repaired.push(format!(
            "DequantizeLinear '{name}' → {culprit}: kept in float instead of a lookup table"
        ));
    }
    Ok(repaired)
}

/// Follows tract's fold walk from a dequantization node; returns the first op in the chain
/// that is not element-wise when the walk would end at a quantization node.
fn folded_culprit(model: &TypedModel, dq: usize) -> TractResult<Option<String>> {
    let mut culprit = None;
    let mut current = dq;
    while let Some(next) = model.single_succ(current)? {
        if let Some(ew) = next.op_as::<ElementWiseOp>() {
            if ew.0.downcast_ref::<QuantizeLinearU8>().is_some()
                || ew.0.downcast_ref::<QuantizeLinearI8>().is_some()
            {
                return Ok(culprit);
            }
        } else if culprit.is_none() {
            culprit = Some(next.op.name().to_string());
        }
        let (inputs, outputs) = model.node_facts(next.id)?;
        if !next
            .op
            .axes_mapping(&inputs, &outputs)?
            .is_element_wise_unary()
        {
            return Ok(None);
        }
        current = next.id;
    }
    Ok(None)
}
