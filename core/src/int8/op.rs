//! `LedgeQConv`: a tract operator running a quantized convolution in integers, u8 NCHW in,
//! u8 NCHW out.

use tract_core::internal::*;

use super::kernels::{self, GemmWeights, Requant, Window};

/// How the convolution is computed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Method {
    /// Group 1: a matrix product over the input (1×1, stride 1, no padding) or its im2col.
    Gemm { weights: GemmWeights, im2col: bool },
    /// One filter per channel: weights `[c][kh][kw]`.
    Depthwise { weights: Vec<i8> },
}

/// A quantized 2-D convolution (`DequantizeLinear → Conv → QuantizeLinear` of a QDQ model) with
/// its requantization fused.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct QConv {
    pub cin: usize,
    pub cout: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: (usize, usize),
    /// Top, left, bottom, right.
    pub pad: [usize; 4],
    pub x_zero: u8,
    pub method: Arc<Method>,
    pub requant: Arc<Requant>,
}

impl Eq for QConv {}

impl QConv {
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
    fn output_shape(&self, input: &[usize]) -> TractResult<[usize; 4]> {
        let &[n, c, h, w] = input else {
            bail!("LedgeQConv expects a 4-D NCHW input, got {input:?}");
        };
        ensure!(
            c == self.cin,
            "LedgeQConv: {c} input channels, expected {}",
            self.cin
        );
        ensure!(
            h + self.pad[0] + self.pad[2] >= self.kh && w + self.pad[1] + self.pad[3] >= self.kw,
            "LedgeQConv: input {h}×{w} is smaller than the {}×{} kernel",
            self.kh,
            self.kw
        );
        let win = self.window(h, w);
        Ok([n, self.cout, win.out_h(), win.out_w()])
    }

    fn macs_per_output(&self) -> usize {
        match &*self.method {
            Method::Gemm { weights, .. } => weights.k,
            Method::Depthwise { .. } => self.kh * self.kw,
        }
    }
}

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
        Ok(vec![format!(
            "{}→{} channels, kernel {}×{}, stride {:?}, pad {:?}",
            self.cin, self.cout, self.kh, self.kw, self.stride, self.pad
        )])
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
        let [n, cout, oh, ow] = self.output_shape(input.shape())?;
        let (h, w) = (input.shape()[2], input.shape()[3]);
        let win = self.window(h, w);
        let x = input.try_as_plain_ram()?;
        let x = x.as_slice::<u8>()?;
        let mut output = Tensor::zero::<u8>(&[n, cout, oh, ow])?;
        let mut view = output.try_as_plain_ram_mut()?;
        let out = view.as_slice_mut::<u8>()?;
        self.compute(x, out, &win);
        Ok(tvec!(output.into_tvalue()))
    }
}

impl QConv {
    /// One image after the other: `x` is `[n][cin][h][w]`, `out` `[n][cout][out_h][out_w]`.
    fn compute(&self, x: &[u8], out: &mut [u8], win: &Window) {
        let (h, w) = (win.h, win.w);
        let (oh, ow) = (win.out_h(), win.out_w());
        let cout = self.cout;
        let mut col = Vec::new();
        for (x, out) in x
            .chunks_exact(self.cin * h * w)
            .zip(out.chunks_exact_mut(cout * oh * ow))
        {
            match &*self.method {
                Method::Gemm {
                    weights,
                    im2col: false,
                } => kernels::gemm(weights, x, h * w, &self.requant, out),
                Method::Gemm {
                    weights,
                    im2col: true,
                } => {
                    kernels::im2col(x, self.cin, win, self.x_zero, &mut col);
                    kernels::gemm(weights, &col, oh * ow, &self.requant, out)
                }
                Method::Depthwise { weights } => {
                    kernels::depthwise(x, self.cin, win, weights, self.x_zero, &self.requant, out)
                }
            }
        }
    }
}

impl TypedOp for QConv {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(
            inputs[0].datum_type == u8::datum_type(),
            "LedgeQConv expects u8"
        );
        let Some(shape) = inputs[0].shape.as_concrete() else {
            bail!("LedgeQConv needs a concrete input shape");
        };
        Ok(tvec!(u8::fact(self.output_shape(shape)?)))
    }

    fn cost(&self, inputs: &[&TypedFact]) -> TractResult<TVec<(Cost, TDim)>> {
        let Some(shape) = inputs[0].shape.as_concrete() else {
            return Ok(tvec!());
        };
        let outputs: usize = self.output_shape(shape)?.iter().product();
        Ok(tvec!((
            Cost::FMA(i32::datum_type()),
            (outputs * self.macs_per_output()).to_dim()
        )))
    }

    as_op!();
}

/// `QuantizeLinear` to u8, vectorized: `clamp(round_half_even(x · scale_recip) + zero)`, the
/// formula of tract's `QuantizeLinearU8`, which it replaces.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct QuantizeU8 {
    /// The reciprocal of the ONNX scale, as tract stores it.
    pub scale_recip: f32,
    pub zero: u8,
}

impl Eq for QuantizeU8 {}

impl Op for QuantizeU8 {
    fn name(&self) -> StaticName {
        "LedgeQuantizeU8".into()
    }

    op_as_typed_op!();
}

impl EvalOp for QuantizeU8 {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = &inputs[0];
        let x = input.try_as_plain_ram()?;
        let x = x.as_slice::<f32>()?;
        let mut output = Tensor::zero::<u8>(input.shape())?;
        kernels::quantize(
            x,
            self.scale_recip,
            self.zero,
            output.try_as_plain_ram_mut()?.as_slice_mut::<u8>()?,
        );
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for QuantizeU8 {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(
            inputs[0].datum_type == f32::datum_type(),
            "LedgeQuantizeU8 expects f32"
        );
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
