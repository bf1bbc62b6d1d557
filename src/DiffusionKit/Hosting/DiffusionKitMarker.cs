namespace DiffusionKit.Hosting;

/// <summary>Registered once by <c>AddDiffusionKit</c>, so that later calls only add configuration.</summary>
internal sealed class DiffusionKitMarker
{
}
