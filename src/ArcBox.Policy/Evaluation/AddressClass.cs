namespace ArcBox.Policy.Evaluation;

/// <param name="Sandbox">The sandbox's name when <see cref="Kind"/> is <see cref="AddressKind.Sandbox"/>.</param>
public readonly record struct AddressClass(AddressKind Kind, string? Sandbox = null);
