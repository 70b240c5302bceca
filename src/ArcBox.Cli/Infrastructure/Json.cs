using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ArcBox.Cli.Infrastructure;

public static class Json
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static void Write(object value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Options));

    /// <summary>Every error in --json mode has this shape: {"error": {"code": ..., "message": ..., ...}}.</summary>
    public static void WriteError(int exitCode, string message, object? details = null) =>
        Write(new { error = new { code = CodeName(exitCode), exitCode, message, details } });

    private static string CodeName(int exitCode) => exitCode switch
    {
        ExitCodes.Invalid => "invalid",
        ExitCodes.Usage => "usage",
        _ => "failure",
    };
}
