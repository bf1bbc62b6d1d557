using DiffusionKit.Models;
using static TorchSharp.torch;

namespace DiffusionKit.Sampling;

/// <summary>
/// The per-image conditioning of a batched loop: which original rows are still sampled, their contexts and guidance
/// weights, and the one network call per step that serves them all (conditional rows, then the unconditional rows of
/// the guided images), shared with other loops' rows when the pipeline's engine steps several loops together.
/// </summary>
/// <remarks>Tensors here live outside the step scopes and are rebuilt only when rows are dropped. Not thread-safe.</remarks>
internal sealed class BatchConditioning : IDisposable
{
    private readonly Device _device;
    private readonly Tensor? _unconditional;
    private List<int> _active;
    private double[] _guidance;
    private Tensor? _context;
    private Tensor? _unconditionalRows;
    private Tensor? _guidedIndex;
    private Tensor? _onePlusW;
    private Tensor? _w;
    private int[] _guidedRows = [];
    private bool _uniform;

    /// <summary>How many active rows are guided (w &gt; 0 with a context).</summary>
    private int GuidedCount => _guidedRows.Length;

    public BatchConditioning(SamplingBatch batch, Device device)
    {
        _device = device;
        _active = Enumerable.Range(0, batch.Count).ToList();
        _guidance = batch.Guidance;
        using var scope = NewDisposeScope();
        _context = batch.Context?.to(ScalarType.Float32, device).DetachFromDisposeScope();
        _unconditional = batch.Context is null ? null : (batch.Unconditional?.to(ScalarType.Float32, device) ?? zeros(1, batch.Context.shape[1], device: device)).DetachFromDisposeScope();
        Rebuild();
    }

    /// <summary>The original rows still being sampled, ascending.</summary>
    public IReadOnlyList<int> Active => _active;

    /// <summary>Keeps the rows at <paramref name="positions"/> of <see cref="Active"/>.</summary>
    public void Keep(IReadOnlyList<int> positions)
    {
        using var index = tensor(positions.Select(p => (long)p).ToArray(), device: _device);
        if (_context is not null)
        {
            var kept = _context.index_select(0, index).DetachFromDisposeScope();
            _context.Dispose();
            _context = kept;
        }

        _active = positions.Select(p => _active[p]).ToList();
        _guidance = positions.Select(p => _guidance[p]).ToArray();
        Rebuild();
    }

    /// <summary>One cohort's share of a network call: its conditioning, its scaled model input and its model time.</summary>
    /// <param name="Rows">The cohort's conditioning.</param>
    /// <param name="Scaled">The scaled model input of its active rows, [Active.Count, C, H, W].</param>
    /// <param name="ModelTime">Its normalised model time, the same for all its rows.</param>
    public readonly record struct Part(BatchConditioning Rows, Tensor Scaled, double ModelTime);

    /// <summary>
    /// The guided noise prediction for every active row of every part, from one network call: the conditional rows
    /// of all parts, then the unconditional rows of their guided images (a guided denoiser runs the context-free part
    /// of the network once for both). Each row carries its own part's time.
    /// </summary>
    /// <returns>One prediction per part, [part's rows, C, H, W], in the caller's dispose scope.</returns>
    public static Tensor[] Predict(IDenoiser denoiser, IReadOnlyList<Part> parts)
    {
        var device = parts[0].Rows._device;
        long rows = parts.Sum(p => p.Scaled.shape[0]);
        int guided = parts.Sum(p => p.Rows.GuidedCount);
        var scaled = parts.Count == 1 ? parts[0].Scaled : cat(parts.Select(p => p.Scaled).ToArray(), 0);
        var times = parts.Select(p => full(new[] { p.Scaled.shape[0] }, p.ModelTime, dtype: ScalarType.Float32, device: device)).ToArray();
        var time = times.Length == 1 ? times[0] : cat(times, 0);
        var context = ContextOf(parts, device);
        Tensor eps;
        if (guided == 0)
        {
            eps = denoiser is IGuidedDenoiser plain
                ? plain.PredictNoiseGuided(scaled, time, context, null, null)
                : denoiser.PredictNoise(scaled, time, context);
        }
        else
        {
            // Conditional rows first, then the unconditional rows of the guided images, in one batch.
            var pairedRows = guided == rows ? null : PairedRows(parts, device);
            var unconditionalRows = parts.Where(p => p.Rows.GuidedCount > 0).Select(p => p.Rows._unconditionalRows!).ToArray();
            var unconditional = unconditionalRows.Length == 1 ? unconditionalRows[0] : cat(unconditionalRows, 0);
            if (denoiser is IGuidedDenoiser pairs)
            {
                eps = pairs.PredictNoiseGuided(scaled, time, context, pairedRows, unconditional);
            }
            else
            {
                var modelInput = cat(new[] { scaled, pairedRows is null ? scaled : scaled.index_select(0, pairedRows) }, 0);
                var both = cat(new[] { time, pairedRows is null ? time : time.index_select(0, pairedRows) }, 0);
                eps = denoiser.PredictNoise(modelInput, both, cat(new[] { context!, unconditional }, 0));
            }
        }

        var predictions = new Tensor[parts.Count];
        long offset = 0, unconditionalOffset = rows;
        for (int i = 0; i < parts.Count; i++)
        {
            var part = parts[i].Rows;
            long count = parts[i].Scaled.shape[0];
            var conditional = eps.narrow(0, offset, count);
            predictions[i] = part.GuidedCount == 0 ? conditional : part.Guide(conditional, eps.narrow(0, unconditionalOffset, part.GuidedCount));
            offset += count;
            unconditionalOffset += part.GuidedCount;
        }

        return predictions;
    }

    /// <summary>The contexts of all parts' rows: null when no part has one, zeros for a part without.</summary>
    private static Tensor? ContextOf(IReadOnlyList<Part> parts, Device device)
    {
        if (parts.Count == 1 || parts.All(p => p.Rows._context is null))
        {
            return parts[0].Rows._context;
        }

        long size = parts.First(p => p.Rows._context is not null).Rows._context!.shape[1];
        return cat(parts.Select(p => p.Rows._context ?? zeros(p.Scaled.shape[0], size, device: device)).ToArray(), 0);
    }

    /// <summary>The rows of the whole call that are guided, as indices into it.</summary>
    private static Tensor PairedRows(IReadOnlyList<Part> parts, Device device)
    {
        if (parts.Count == 1)
        {
            return parts[0].Rows._guidedIndex!;
        }

        var indices = new List<long>();
        long offset = 0;
        foreach (var part in parts)
        {
            indices.AddRange(part.Rows._guidedRows.Select(r => offset + r));
            offset += part.Scaled.shape[0];
        }

        return tensor(indices.ToArray(), device: device);
    }

    /// <summary>Classifier-free guidance of this part's rows: (1 + w)·eps_c - w·eps_u for the guided rows, eps_c for the others.</summary>
    private Tensor Guide(Tensor conditional, Tensor unconditional)
    {
        long rows = conditional.shape[0];
        if (_uniform)
        {
            // Every image has the same w: exactly the classic (1 + w)·eps_c - w·eps_u.
            double w = _guidance[0];
            return Native.KeptScalars.Mul(conditional, 1 + w) - Native.KeptScalars.Mul(unconditional, w);
        }

        var guidedConditional = GuidedCount == rows ? conditional : conditional.index_select(0, _guidedIndex!);
        var guided = (_onePlusW! * guidedConditional) - (_w! * unconditional);
        return GuidedCount == rows ? guided : conditional.index_copy(0, _guidedIndex!, guided);
    }

    public void Dispose()
    {
        DisposeDerived();
        _context?.Dispose();
        _unconditional?.Dispose();
    }

    private void Rebuild()
    {
        DisposeDerived();
        if (_context is null)
        {
            _guidedRows = [];
            return;
        }

        var guided = Enumerable.Range(0, _guidance.Length).Where(i => _guidance[i] > 0).ToArray();
        _guidedRows = guided;
        if (GuidedCount == 0)
        {
            return;
        }

        _uniform = GuidedCount == _guidance.Length && _guidance.All(w => w == _guidance[0]);
        using var scope = NewDisposeScope();
        _guidedIndex = tensor(guided.Select(i => (long)i).ToArray(), device: _device).DetachFromDisposeScope();
        _unconditionalRows = (_unconditional!.shape[0] == 1 ? _unconditional.expand(GuidedCount, -1) : _unconditional.index_select(0, _guidedIndex)).contiguous().DetachFromDisposeScope();
        _onePlusW = tensor(guided.Select(i => (float)(1 + _guidance[i])).ToArray(), device: _device).view(-1, 1, 1, 1).DetachFromDisposeScope();
        _w = tensor(guided.Select(i => (float)_guidance[i]).ToArray(), device: _device).view(-1, 1, 1, 1).DetachFromDisposeScope();
    }

    private void DisposeDerived()
    {
        _unconditionalRows?.Dispose();
        _guidedIndex?.Dispose();
        _onePlusW?.Dispose();
        _w?.Dispose();
        (_unconditionalRows, _guidedIndex, _onePlusW, _w) = (null, null, null, null);
    }
}
