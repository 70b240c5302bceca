namespace ArcBox.Policy.Model;

/// <param name="Egress">Upload: traffic the sandbox sends.</param>
/// <param name="Ingress">Download: traffic the sandbox receives.</param>
public sealed record Bandwidth(Rate? Egress, Rate? Ingress);
