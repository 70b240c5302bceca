namespace ArcBox.Daemon.Vms;

/// <summary>Reads a VM's serial console log in chunks, for `vm run` and `vm logs` to follow.</summary>
public static class VmConsole
{
    public const int MaxChunk = 64 << 10;

    /// <summary>The bytes from <paramref name="offset"/> (at most <see cref="MaxChunk"/>) and the offset after them.</summary>
    public static (byte[] Bytes, long Next) Read(string path, long offset)
    {
        if (offset < 0)
        {
            throw new Sandboxes.RequestException(Sandboxes.ErrorCode.Invalid, $"offset: {offset} is negative");
        }

        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            if (offset >= file.Length)
            {
                return ([], Math.Min(offset, file.Length));
            }

            file.Position = offset;
            var buffer = new byte[Math.Min(MaxChunk, file.Length - offset)];
            var read = file.Read(buffer);
            return (buffer[..read], offset + read);
        }
        catch (FileNotFoundException)
        {
            return ([], 0);
        }
    }
}
