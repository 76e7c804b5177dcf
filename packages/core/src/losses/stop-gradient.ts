/**
 * Gradient blocking for the CMID losses (cmid.md sections 4.1, 4.3, 4.4: keys, teacher probabilities, the FFL
 * spectrum weight and the detached prediction are constants for the gradient).
 *
 * tfjs has no stop_gradient op, so both helpers are a tf.customGrad whose gradient is zero for every input:
 * - `noGrad(fn, ...inputs)` evaluates fn(...inputs) with the tape off (the kernels fn runs are recorded by the
 *   backend, so they still appear in a symbolic trace, but tf.grad never visits them and needs no gradient rule
 *   for them), and gives zeros to its inputs on the way back. Use it for a whole detached computation (the FFL
 *   weight), which also keeps a non-finite intermediate (sqrt'(0)) out of the backward pass.
 * - `stopGradient(x)` is noGrad of the identity.
 * Only tf ops: both work eagerly and under the compiled engine's symbolic trace.
 */
import * as tf from '@tensorflow/tfjs';

/** fn(...inputs) as a value whose gradient with respect to every input is zero (torch: `with no_grad` / `.detach()`). */
export function noGrad<T extends tf.Tensor>(fn: (...xs: tf.Tensor[]) => T, ...inputs: tf.Tensor[]): T {
  if (inputs.length === 0) throw new Error('noGrad: needs at least one input tensor.');
  const f = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xs = args.slice(0, inputs.length) as tf.Tensor[];
    const save = args[inputs.length] as tf.GradSaveFunc;
    save(xs);
    return {
      value: fn(...xs),
      gradFunc: (_dy: tf.Tensor, saved: tf.Tensor[]) => saved.map((s) => tf.zerosLike(s)),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(...inputs) as T;
}

/** x as a constant for the gradient (torch `x.detach()`); the forward value is an Identity of x. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return noGrad((t) => tf.clone(t), x) as T;
}
