using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit.Training;

/// <summary>
/// TorchSharp's Adam with the same arithmetic in the same order, and every <see cref="Scalar"/> it hands to libtorch
/// created explicitly and kept alive until the native call has returned.
/// </summary>
/// <remarks>
/// Why (hand-written: the fix belongs in TorchSharp, which 0.107 does not have): TorchSharp 0.107's
/// <c>Adam.step</c> passes implicit conversions such as <c>add_(grad, alpha: 1 - beta1)</c>. The temporary
/// <see cref="Scalar"/> is unreachable as soon as its native handle has been read, so a garbage collection started by
/// another thread during the native call may run its finalizer, which frees the C++ scalar while libtorch reads it.
/// libtorch then fails with "Expected false to be true ... Exception raised from toFloat at c10/core/Scalar.h:140"
/// (seen once in four runs on a 2-core Zen 5, issue 19), or reads a wrong value. Here each scalar is a
/// <c>using</c> local, reachable until its <c>Dispose</c> after the call. Moments, step counts and the state
/// dictionary are TorchSharp's own, so checkpoints and resumes are unchanged.
/// </remarks>
internal sealed class ScalarSafeAdam : Adam
{
    /// <summary>Creates the optimiser over <paramref name="parameters"/> with TorchSharp's Adam defaults and learning rate <paramref name="lr"/>.</summary>
    public ScalarSafeAdam(IEnumerable<Parameter> parameters, double lr)
        : base(parameters, lr)
    {
    }

    /// <inheritdoc />
    public override Tensor step(Func<Tensor>? closure = null)
    {
        return _step<ParamGroup>(
            group =>
            {
                var options = (Options)group.Options;
                double beta1 = options.beta1!.Value, beta2 = options.beta2!.Value, eps = options.eps!.Value, lr = options.LearningRate!.Value;
                double weightDecay = options.weight_decay!.Value;
                if (options.amsgrad!.Value || options.maximize!.Value)
                {
                    throw new NotSupportedException("ScalarSafeAdam implements Adam without amsgrad and maximize, the only variant DiffusionKit uses.");
                }

                using var decay1 = beta1.ToScalar();
                using var rest1 = (1 - beta1).ToScalar();
                using var decay2 = beta2.ToScalar();
                using var rest2 = (1 - beta2).ToScalar();
                using var epsilon = eps.ToScalar();
                using var decayWeight = weightDecay.ToScalar();
                foreach (var param in group.Parameters)
                {
                    var state = (State)_state[param.Handle];
                    var grad = param.grad;
                    if (grad is null)
                    {
                        continue;
                    }

                    state.step += 1;
                    double correction1 = 1 - Math.Pow(beta1, state.step);
                    double correction2 = 1 - Math.Pow(beta2, state.step);
                    using var scope = NewDisposeScope();
                    if (weightDecay != 0)
                    {
                        grad = grad.add(param, alpha: decayWeight);
                    }

                    state.exp_avg.mul_(decay1).add_(grad, alpha: rest1);
                    state.exp_avg_sq.mul_(decay2).addcmul_(grad, grad, value: rest2);
                    using var root = Math.Sqrt(correction2).ToScalar();
                    using var stepSize = (-(lr / correction1)).ToScalar();
                    var denominator = state.exp_avg_sq.sqrt().div_(root).add_(epsilon);
                    param.addcdiv_(state.exp_avg, denominator, value: stepSize);
                }
            },
            closure);
    }
}
