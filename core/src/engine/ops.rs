//! Ledge's tract operators: `LedgeQConv` (a quantized convolution in integers, u8 NCHW in and
//! out), `LedgeDepthwiseF32` (a float depthwise convolution) and `LedgeQuantizeU8`.

use std::ops::Range;

use tract_core::internal::*;

use super::threads;

use crate::kernels::int8::{
    self as kernels, FloatEnds, GemmWeights, Isa, QuantEnds, Requant, Window,
};

/// The shape of a 2-D NCHW convolution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub cin: usize,
    pub cout: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: (usize, usize),
    /// Top, left, bottom, right.
    pub pad: [usize; 4],
}

impl Geometry {
    fn window(&self, h: usize, w: usize) -> Window {
        Window {
            h,
            w,
            kh: self.kh,
            kw: self.kw,
            stride: self.stride,
            pad: self.pad,
        }
    }

    /// `[n, cout, out_h, out_w]` for an input `[n, cin, h, w]`.
    pub(crate) fn output_shape(&self, op: &str, input: &[usize]) -> TractResult<[usize; 4]> {
        let &[n, c, h, w] = input else {
            bail!("{op} expects a 4-D NCHW input, got {input:?}");
        };
        ensure!(
            c == self.cin,
            "{op}: {c} input channels, expected {}",
            self.cin
        );
        ensure!(
            h + self.pad[0] + self.pad[2] >= self.kh && w + self.pad[1] + self.pad[3] >= self.kw,
            "{op}: input {h}×{w} is smaller than the {}×{} kernel",
            self.kh,
            self.kw
        );
        let win = self.window(h, w);
        Ok([n, self.cout, win.out_h(), win.out_w()])
    }

    /// The input's concrete shape, checked for `dt`.
    fn concrete<'a>(
        &self,
        op: &str,
        fact: &'a TypedFact,
        dt: DatumType,
    ) -> TractResult<&'a [usize]> {
        ensure!(
            fact.datum_type == dt,
            "{op} expects {dt:?}, got {:?}",
            fact.datum_type
        );
        fact.shape
            .as_concrete()
            .ok_or_else(|| format_err!("{op} needs a concrete input shape"))
    }

    fn info(&self) -> String {
        format!(
            "{}→{} channels, kernel {}×{}, stride {:?}, pad {:?}",
            self.cin, self.cout, self.kh, self.kw, self.stride, self.pad
        )
    }
}

/// Consecutive output channels of a convolution with their own weights and requantization:
/// what one thread computes (see [`threads::for_each_block`]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Block<W> {
    /// The first output channel.
    pub first: usize,
    pub weights: W,
    /// One bias and scale per channel of the block.
    pub requant: Requant,
}

impl<W> Block<W> {
    fn channels(&self) -> usize {
        self.requant.bias.len()
    }
}

/// `0..n` split into `blocks` consecutive ranges of nearly equal length, each (but the last) a
/// multiple of `align`, none empty; fewer when `n` is too small for that many.
pub(crate) fn split(n: usize, blocks: usize, align: usize) -> Vec<Range<usize>> {
    let step = n
        .div_ceil(blocks.max(1))
        .next_multiple_of(align.max(1))
        .max(1);
    (0..n).step_by(step).map(|a| a..(a + step).min(n)).collect()
}

/// How the convolution is computed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Method {
    /// Group 1: a matrix product over the input (1×1, stride 1, no padding) or its im2col.
    Gemm {
        blocks: Vec<Block<GemmWeights>>,
        im2col: bool,
    },
    /// One filter per channel: weights `[c][kh][kw]` (the int8 values, as f32).
    Depthwise { blocks: Vec<Block<Vec<f32>>> },
}

/// A quantized 2-D convolution (`DequantizeLinear → Conv → QuantizeLinear` of a QDQ model) with
/// its requantization fused.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct QConv {
    /// The instruction set of the matrix product (checked as supported at load).
    pub isa: Isa,
    pub geo: Geometry,
    pub x_zero: u8,
    pub method: Arc<Method>,
}

impl Eq for QConv {}

impl Op for QConv {
    /// One name per method, so that profiles tell them apart.
    fn name(&self) -> StaticName {
        match &*self.method {
            Method::Gemm { im2col: false, .. } => "LedgeQConv(gemm)",
            Method::Gemm { im2col: true, .. } => "LedgeQConv(im2col+gemm)",
            Method::Depthwise { .. } => "LedgeQConv(depthwise)",
        }
        .into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![self.geo.info()])
    }

    op_as_typed_op!();
}

impl EvalOp for QConv {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = &inputs[0];
        ensure!(
            input.datum_type() == u8::datum_type(),
            "LedgeQConv expects u8"
        );
        let shape = self.geo.output_shape("LedgeQConv", input.shape())?;
        let win = self.geo.window(input.shape()[2], input.shape()[3]);
        let x = input.try_as_plain_ram()?;
        // SAFETY: `compute` writes every element (the blocks cover every channel, and the gemm and
        // depthwise kernels every output of theirs); zeroing it first cost ~0.25 ms per
        // EfficientNet-Lite0 run, on the calling thread before the blocks are shared out.
        let mut output = unsafe { Tensor::uninitialized::<u8>(&shape)? };
        let mut view = output.try_as_plain_ram_mut()?;
        self.compute(x.as_slice::<u8>()?, view.as_slice_mut::<u8>()?, &win);
        Ok(tvec!(output.into_tvalue()))
    }
}

impl QConv {
    /// One image after the other: `x` is `[n][cin][h][w]`, `out` `[n][cout][out_h][out_w]`.
    fn compute(&self, x: &[u8], out: &mut [u8], win: &Window) {
        let (cin, cout) = (self.geo.cin, self.geo.cout);
        let (oh, ow) = (win.out_h(), win.out_w());
        let mut col = Vec::new();
        for (x, out) in x
            .chunks_exact(cin * win.h * win.w)
            .zip(out.chunks_exact_mut(cout * oh * ow))
        {
            match &*self.method {
                Method::Gemm { blocks, im2col } => {
                    let (x, p) = if *im2col {
                        // The matrix's rows, one input channel's taps per block.
                        let (hw, rows) = (win.h * win.w, win.kh * win.kw * oh * ow);
                        col.resize(cin * rows, 0);
                        let channels: Vec<usize> = (0..cin).collect();
                        threads::for_each_block(
                            &channels,
                            |_| rows,
                            &mut col,
                            |&c, dst| {
                                kernels::im2col_plane(&x[c * hw..][..hw], win, self.x_zero, dst)
                            },
                        );
                        (col.as_slice(), oh * ow)
                    } else {
                        (x, win.h * win.w)
                    };
                    threads::for_each_block(
                        blocks,
                        |b| b.channels() * p,
                        out,
                        |b, out| kernels::gemm(self.isa, &b.weights, x, p, &b.requant, out),
                    );
                }
                Method::Depthwise { blocks } => {
                    let plane = win.h * win.w;
                    let outs = |b: &Block<_>| b.channels() * oh * ow;
                    threads::for_each_block(blocks, outs, out, |b, out| {
                        let x = &x[b.first * plane..][..b.channels() * plane];
                        let ends = QuantEnds {
                            x_zero: self.x_zero,
                            rq: &b.requant,
                        };
                        kernels::depthwise(self.isa, x, b.channels(), win, &b.weights, &ends, out)
                    });
                }
            }
        }
    }
}

impl TypedOp for QConv {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = self
            .geo
            .concrete("LedgeQConv", inputs[0], u8::datum_type())?;
        Ok(tvec!(u8::fact(self.geo.output_shape("LedgeQConv", shape)?)))
    }

    fn cost(&self, inputs: &[&TypedFact]) -> TractResult<TVec<(Cost, TDim)>> {
        let shape = self
            .geo
            .concrete("LedgeQConv", inputs[0], u8::datum_type())?;
        let outputs: usize = self.geo.output_shape("LedgeQConv", shape)?.iter().product();
        let per_output = match &*self.method {
            Method::Gemm { im2col: true, .. } => self.geo.cin * self.geo.kh * self.geo.kw,
            Method::Gemm { im2col: false, .. } => self.geo.cin,
            Method::Depthwise { .. } => self.geo.kh * self.geo.kw,
        };
        Ok(tvec!((
            Cost::FMA(i32::datum_type()),
            (outputs * per_output).to_dim()
        )))
    }

    as_op!();
}

/// A float depthwise convolution with bias (fp32 models, and float ones QDQ models keep), on
/// the same kernel as the quantized one: tract's own runs at ~4 GMAC/s.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DepthwiseF32 {
    /// The instruction set of the load (checked as supported).
    pub isa: Isa,
    pub geo: Geometry,
    /// `[c][kh][kw]`.
    pub weights: Arc<Vec<f32>>,
    /// One per channel.
    pub bias: Arc<Vec<f32>>,
    /// Channel blocks that threads compute side by side (one for one thread).
    pub blocks: Vec<Range<usize>>,
}

impl Eq for DepthwiseF32 {}

impl Op for DepthwiseF32 {
    fn name(&self) -> StaticName {
        "LedgeDepthwiseF32".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![self.geo.info()])
    }

    op_as_typed_op!();
}

impl EvalOp for DepthwiseF32 {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = &inputs[0];
        ensure!(
            input.datum_type() == f32::datum_type(),
            "LedgeDepthwiseF32 expects f32"
        );
        let shape = self.geo.output_shape("LedgeDepthwiseF32", input.shape())?;
        let win = self.geo.window(input.shape()[2], input.shape()[3]);
        let x = input.try_as_plain_ram()?;
        // SAFETY: the depthwise kernel writes every output of every channel.
        let mut output = unsafe { Tensor::uninitialized::<f32>(&shape)? };
        let mut view = output.try_as_plain_ram_mut()?;
        let (c, plane, taps) = (self.geo.cin, win.h * win.w, win.kh * win.kw);
        let outs = win.out_h() * win.out_w();
        for (x, out) in x
            .as_slice::<f32>()?
            .chunks_exact(c * plane)
            .zip(view.as_slice_mut::<f32>()?.chunks_exact_mut(c * outs))
        {
            threads::for_each_block(
                &self.blocks,
                |r| r.len() * outs,
                out,
                |r, out| {
                    let ends = FloatEnds {
                        bias: &self.bias[r.clone()],
                    };
                    let (x, w) = (&x[r.start * plane..r.end * plane], &self.weights);
                    kernels::depthwise(
                        self.isa,
                        x,
                        r.len(),
                        &win,
                        &w[r.start * taps..r.end * taps],
                        &ends,
                        out,
                    )
                },
            );
        }
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for DepthwiseF32 {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = self
            .geo
            .concrete("LedgeDepthwiseF32", inputs[0], f32::datum_type())?;
        Ok(tvec!(f32::fact(
            self.geo.output_shape("LedgeDepthwiseF32", shape)?
        )))
    }

    fn cost(&self, inputs: &[&TypedFact]) -> TractResult<TVec<(Cost, TDim)>> {
        let shape = self
            .geo
            .concrete("LedgeDepthwiseF32", inputs[0], f32::datum_type())?;
        let outputs: usize = self
            .geo
            .output_shape("LedgeDepthwiseF32", shape)?
            .iter()
            .product();
        Ok(tvec!((
            Cost::FMA(f32::datum_type()),
            (outputs * self.geo.kh * self.geo.kw).to_dim()
        )))
    }

    as_op!();
}

/// `Eq`, `Op` (its name in profiles and errors) and `TypedOp` for an element-wise op with f32
/// parameters and a u8 output of its first input's shape, which `Self::check_inputs` accepts.
macro_rules! u8_element_wise_op {
    ($op:ty, $name:literal) => {
        impl Eq for $op {}

        impl Op for $op {
            fn name(&self) -> StaticName {
                $name.into()
            }

            op_as_typed_op!();
        }

        impl TypedOp for $op {
            fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
                Self::check_inputs(inputs)?;
                Ok(tvec!(u8::fact(inputs[0].shape.clone())))
            }

            fn axes_mapping(
                &self,
                inputs: &[&TypedFact],
                outputs: &[&TypedFact],
            ) -> TractResult<AxesMapping> {
                AxesMapping::natural(inputs, outputs)
            }

            as_op!();
        }
    };
}

/// `QuantizeLinear` to u8, vectorized: `clamp(round_half_even(x · scale_recip) + zero)`, the
/// formula of tract's `QuantizeLinearU8`, which it replaces.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct QuantizeU8 {
    /// The reciprocal of the ONNX scale, as tract stores it.
    pub scale_recip: f32,
    pub zero: u8,
}

u8_element_wise_op!(QuantizeU8, "LedgeQuantizeU8");

impl EvalOp for QuantizeU8 {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = &inputs[0];
        let x = input.try_as_plain_ram()?;
        let x = x.as_slice::<f32>()?;
        // SAFETY: `quantize` writes every element.
        let mut output = unsafe { Tensor::uninitialized::<u8>(input.shape())? };
        kernels::quantize(
            x,
            self.scale_recip,
            self.zero,
            output.try_as_plain_ram_mut()?.as_slice_mut::<u8>()?,
        );
        Ok(tvec!(output.into_tvalue()))
    }
}

impl QuantizeU8 {
    fn check_inputs(inputs: &[&TypedFact]) -> TractResult<()> {
        ensure!(
            inputs[0].datum_type == f32::datum_type(),
            "LedgeQuantizeU8 expects f32"
        );
        Ok(())
    }
}

/// Two `DequantizeLinear`s of u8 tensors of one shape, their `Add` and a `QuantizeLinear` to u8
/// (a QDQ model's residual connection) in one pass over the u8 tensors instead of four over f32
/// ones: [`kernels::add_quantized`], the same bits.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct QAddU8 {
    /// Scale and zero point of the first input.
    pub a: (f32, i32),
    /// Scale and zero point of the second input.
    pub b: (f32, i32),
    /// The quantization of the sum.
    pub y: QuantizeU8,
}

u8_element_wise_op!(QAddU8, "LedgeQAddU8");

impl EvalOp for QAddU8 {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let (a, b) = (&inputs[0], &inputs[1]);
        ensure!(
            a.shape() == b.shape(),
            "LedgeQAddU8 expects two inputs of one shape, got {:?} and {:?}",
            a.shape(),
            b.shape()
        );
        let (a_ram, b_ram) = (a.try_as_plain_ram()?, b.try_as_plain_ram()?);
        // SAFETY: `add_quantized` writes every element.
        let mut output = unsafe { Tensor::uninitialized::<u8>(a.shape())? };
        kernels::add_quantized(
            a_ram.as_slice::<u8>()?,
            self.a,
            b_ram.as_slice::<u8>()?,
            self.b,
            (self.y.scale_recip, self.y.zero),
            output.try_as_plain_ram_mut()?.as_slice_mut::<u8>()?,
        );
        Ok(tvec!(output.into_tvalue()))
    }
}

impl QAddU8 {
    fn check_inputs(inputs: &[&TypedFact]) -> TractResult<()> {
        ensure!(
            inputs.len() == 2
                && inputs.iter().all(|f| f.datum_type == u8::datum_type())
                && inputs[0].shape == inputs[1].shape,
            "LedgeQAddU8 expects two u8 inputs of one shape"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn split_covers_every_channel_in_aligned_blocks() {
        assert_eq!(split(10, 1, 4), vec![0..10]);
        assert_eq!(split(10, 2, 4), vec![0..8, 8..10]);
        assert_eq!(split(16, 2, 4), vec![0..8, 8..16]);
        assert_eq!(split(1152, 3, 4), vec![0..384, 384..768, 768..1152]);
        assert_eq!(split(3, 2, 4), vec![0..3]);
        assert_eq!(split(0, 2, 4), vec![]);
        for (n, blocks) in [(24, 2), (40, 3), (1000, 7), (5, 4)] {
            let ranges = split(n, blocks, 4);
            assert!(ranges.len() <= blocks && !ranges.is_empty());
            assert_eq!(ranges.first().unwrap().start, 0);
            assert_eq!(ranges.last().unwrap().end, n);
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
                assert_eq!(pair[0].len() % 4, 0);
            }
        }
    }
}
