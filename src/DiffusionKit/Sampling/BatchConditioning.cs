using DiffusionKit.Models;
using static TorchSharp.torch;

namespace DiffusionKit.Sampling;

/// <summary>
/// The per-image conditioning of a batched loop: which original rows are still sampled, their contexts and guidance
/// weights, and the one network call per step that serves them all (conditional rows, then the unconditional rows of
/// the guided images).
/// </summary>
/// <remarks>Tensors here live outside the step scopes and are rebuilt only when rows are dropped. Not thread-safe.</remarks>
internal sealed class BatchConditioning : IDisposable
{
    private readonly Device _device;
    private readonly Tensor? _unconditional;
    private List<int> _active;
    private double[] _guidance;
    private Tensor? _context;
    private Tensor? _modelContext;
    private Tensor? _unconditionalRows;
    private Tensor? _guidedIndex;
    private Tensor? _onePlusW;
    private Tensor? _w;
    private int _guidedCount;
    private bool _uniform;

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

    /// <summary>The guided noise prediction for every active row: one network call over the conditional and unconditional halves.</summary>
    public Tensor Predict(IDenoiser denoiser, Tensor scaled, double modelTime)
    {
        long rows = scaled.shape[0];
        var time = full(new[] { rows }, modelTime, dtype: ScalarType.Float32, device: _device);
        if (_guidedCount == 0)
        {
            return denoiser is IGuidedDenoiser plain
                ? plain.PredictNoiseGuided(scaled, time, _context, null, null)
                : denoiser.PredictNoise(scaled, time, _context);
        }

        // Conditional rows first, then the unconditional rows of the guided images, in one batch; a guided denoiser
        // runs the context-free part of the network once for both.
        var pairedRows = _guidedCount == rows ? null : _guidedIndex!;
        Tensor eps;
        if (denoiser is IGuidedDenoiser pairs)
        {
            eps = pairs.PredictNoiseGuided(scaled, time, _context, pairedRows, _unconditionalRows);
        }
        else
        {
            var modelInput = cat(new[] { scaled, pairedRows is null ? scaled : scaled.index_select(0, pairedRows) }, 0);
            var both = full(new[] { rows + _guidedCount }, modelTime, dtype: ScalarType.Float32, device: _device);
            eps = denoiser.PredictNoise(modelInput, both, _modelContext);
        }

        var conditional = eps.narrow(0, 0, rows);
        var unconditional = eps.narrow(0, rows, _guidedCount);
        if (_uniform)
        {
            // Every image has the same w: exactly the classic (1 + w)·eps_c - w·eps_u.
            double w = _guidance[0];
            return ((1 + w) * conditional) - (w * unconditional);
        }

        var guidedConditional = _guidedCount == rows ? conditional : conditional.index_select(0, _guidedIndex!);
        var guided = (_onePlusW! * guidedConditional) - (_w! * unconditional);
        return _guidedCount == rows ? guided : conditional.index_copy(0, _guidedIndex!, guided);
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
            _guidedCount = 0;
            return;
        }

        var guided = Enumerable.Range(0, _guidance.Length).Where(i => _guidance[i] > 0).ToArray();
        _guidedCount = guided.Length;
        if (_guidedCount == 0)
        {
            return;
        }

        _uniform = _guidedCount == _guidance.Length && _guidance.All(w => w == _guidance[0]);
        using var scope = NewDisposeScope();
        _guidedIndex = tensor(guided.Select(i => (long)i).ToArray(), device: _device).DetachFromDisposeScope();
        _unconditionalRows = (_unconditional!.shape[0] == 1 ? _unconditional.expand(_guidedCount, -1) : _unconditional.index_select(0, _guidedIndex)).contiguous().DetachFromDisposeScope();
        _modelContext = cat(new[] { _context, _unconditionalRows }, 0).DetachFromDisposeScope();
        _onePlusW = tensor(guided.Select(i => (float)(1 + _guidance[i])).ToArray(), device: _device).view(-1, 1, 1, 1).DetachFromDisposeScope();
        _w = tensor(guided.Select(i => (float)_guidance[i]).ToArray(), device: _device).view(-1, 1, 1, 1).DetachFromDisposeScope();
    }

    private void DisposeDerived()
    {
        _modelContext?.Dispose();
        _unconditionalRows?.Dispose();
        _guidedIndex?.Dispose();
        _onePlusW?.Dispose();
        _w?.Dispose();
        (_modelContext, _unconditionalRows, _guidedIndex, _onePlusW, _w) = (null, null, null, null, null);
    }
}
