namespace ArcBox.Daemon.Vms;

/// <summary>Reads a VM's serial console log in chunks, for `vm run` and `vm logs` to follow.</summary>
public static class VmConsole
{
    public const int MaxChunk = 64 << 10;

    /// <summary>A console log over this size is emptied (the guest's output goes on from the start): a guest must not
    /// fill the state directory.</summary>
    public const long MaxBytes = 16 << 20;

    public static long Length(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    /// <summary>Empties the log when it is over <see cref="MaxBytes"/>; QEMU writes with O_APPEND (append=on), so
    /// its next line lands at the new start. True when it did.</summary>
    public static bool Cap(string path)
    {
        if (Length(path) <= MaxBytes)
        {
            return false;
        }

        using var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        file.SetLength(0);
        return true;
    }

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
