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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{from_tract, to_tract};

    /// Runs the real fixture (a QDQ PP-OCR classifier whose Softmax was quantized) on an
    /// upright text line, with or without the repair.
    fn run_fixture(repair: bool) -> (Vec<f32>, usize) {
        let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo-models");
        let mut model = tract_onnx::onnx()
            .model_for_path(demo.join("fixtures/ppocr-cls-softmax-qdq.onnx"))
            .unwrap()
            .with_input_fact(0, f32::fact([1, 3, 48, 192]).into())
            .unwrap()
            .into_typed()
            .unwrap();
        let repaired = if repair {
            quantized_non_elementwise_chains(&mut model).unwrap().len()
        } else {
            0
        };
        let plan = model.into_optimized().unwrap().into_runnable().unwrap();
        // The input as Ledge preprocesses it (tests/vectors.rs holds it to the Pillow reference).
        let manifest =
            crate::Manifest::from_path(demo.join("fixtures/ppocr-cls-softmax-qdq.toml")).unwrap();
        let png = std::fs::read(demo.join("images/line0_0.png")).unwrap();
        let img = crate::vision::decode(&png, 1 << 26, true).unwrap();
        let (tensor, _) = crate::vision::to_tensor(
            &crate::vision::Upright::plain(img.clone()),
            &manifest.input,
            &[1, 3, 48, 192],
            crate::DType::F32,
        )
        .unwrap();
        let input = to_tract(&tensor).unwrap();
        let out = plan.run(tvec![input.into_tvalue()]).unwrap();
        let out = from_tract(&out[0]).unwrap();
        (out.as_f32().unwrap().to_vec(), repaired)
    }

    #[test]
    fn tract_alone_turns_a_quantized_softmax_into_ones() {
        let (out, _) = run_fixture(false);
        assert_eq!(out, vec![out[0]; 2], "{out:?}");
        assert!(
            out[0] > 0.98,
            "{out:?}: if this fails, tract fixed the fold; revisit the repair"
        );
    }

    #[test]
    fn the_repair_gives_onnxruntime_s_answer() {
        let (out, repaired) = run_fixture(true);
        assert_eq!(repaired, 1);
        // onnxruntime: [0.98824, 0.00784] (1/255 steps).
        assert!(
            (out[0] - 0.988_235).abs() < 0.02 && (out[1] - 0.007_843).abs() < 0.02,
            "{out:?}"
        );
    }
}
