using System.Globalization;

namespace ArcBox.Daemon.Sandboxes;

/// <summary>
/// Where a sandbox's link goes, typed from request validation on. Its text form ("netns", "netns:PATH",
/// "pid:PID", "tap") is what the API, the CLI and the state store carry.
/// </summary>
public abstract record Attachment
{
    private Attachment()
    {
    }

    /// <summary>The namespace the sandbox-side link lives in; null for a TAP.</summary>
    public abstract string? NamespacePath { get; }

    /// <summary>Whether removing the sandbox deletes the name under /run/netns (the namespace goes with its last user).</summary>
    public virtual bool OwnsNamespaceName => false;

    public abstract string Text { get; }

    public sealed override string ToString() => Text;

    /// <summary>
    /// Validates the attachment of a create. <paramref name="ownPath"/> is the name the daemon gives a namespace of
    /// the sandbox's own (netns and pid: attachments); nothing on the machine is changed here.
    /// </summary>
    public static Attachment Parse(string? text, string ownPath)
    {
        switch (text)
        {
            case null or "" or "netns":
                return new Netns(ownPath);
            case "tap":
                return new Tap(null, null);
            case var a when a.StartsWith("netns:", StringComparison.Ordinal):
                var path = a["netns:".Length..];
                if (path.Length == 0 || !path.StartsWith('/') || !File.Exists(path))
                {
                    throw new RequestException(ErrorCode.Invalid, $"--attach netns:PATH: '{path}' is not an existing namespace file (such as /run/netns/NAME)");
                }

                return new NetnsPath(path);
            case var a when a.StartsWith("pid:", StringComparison.Ordinal):
                if (!int.TryParse(a["pid:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0)
                {
                    throw new RequestException(ErrorCode.Invalid, $"--attach pid:PID: '{a["pid:".Length..]}' is not a process id");
                }

                if (!File.Exists(Pid.SourceOf(pid)))
                {
                    throw new RequestException(ErrorCode.Invalid, $"--attach pid:{pid}: no such process");
                }

                return new Pid(pid, ownPath);
            default:
                throw new RequestException(ErrorCode.Invalid, $"unknown attach '{text}': expected netns, netns:PATH, pid:PID or tap");
        }
    }

    /// <summary>An attachment as stored: the text form plus the columns that complete it.</summary>
    public static Attachment FromStored(string text, string? namespacePath, uint? tapUid, uint? tapGid) => text switch
    {
        "netns" => new Netns(namespacePath ?? throw new InvalidDataException("a netns sandbox without its namespace path")),
        "tap" => new Tap(tapUid, tapGid),
        _ when text.StartsWith("netns:", StringComparison.Ordinal) => new NetnsPath(text["netns:".Length..]),
        _ when text.StartsWith("pid:", StringComparison.Ordinal) && int.TryParse(text["pid:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) =>
            new Pid(pid, namespacePath ?? throw new InvalidDataException($"a {text} sandbox without its namespace path")),
        _ => throw new InvalidDataException($"unknown stored attachment '{text}'"),
    };

    /// <summary>A namespace the daemon creates for the sandbox and deletes with it.</summary>
    public sealed record Netns(string Path) : Attachment
    {
        public override string? NamespacePath => Path;

        public override bool OwnsNamespaceName => true;

        public override string Text => "netns";
    }

    /// <summary>An existing namespace (a container's): the daemon adds its link and leaves the namespace alone.</summary>
    public sealed record NetnsPath(string Path) : Attachment
    {
        public override string? NamespacePath => Path;

        public override string Text => "netns:" + Path;
    }

    /// <summary>A process's namespace, given a name of ours under /run/netns (a bind mount) so it outlives the lookup.</summary>
    public sealed record Pid(int ProcessId, string Path) : Attachment
    {
        public override string? NamespacePath => Path;

        public override bool OwnsNamespaceName => true;

        public override string Text => string.Create(CultureInfo.InvariantCulture, $"pid:{ProcessId}");

        public string Source => SourceOf(ProcessId);

        internal static string SourceOf(int pid) => string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/ns/net");
    }

    /// <summary>A persistent TAP for a VMM; <paramref name="Uid"/>/<paramref name="Gid"/> may open it (null: root only).</summary>
    public sealed record Tap(uint? Uid, uint? Gid) : Attachment
    {
        public override string? NamespacePath => null;

        public override string Text => "tap";

        /// <summary>"UID[:GID]" as --tap-owner gives it.</summary>
        public static Tap WithOwner(string? owner)
        {
            if (string.IsNullOrEmpty(owner))
            {
                return new Tap(null, null);
            }

            var parts = owner.Split(':');
            if (parts.Length > 2
                || !uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
                || (parts.Length == 2 && !uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            {
                throw new RequestException(ErrorCode.Invalid, $"--tap-owner: expected UID or UID:GID (numbers), got '{owner}'");
            }

            return new Tap(uid, parts.Length == 2 ? uint.Parse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture) : null);
        }
    }
}
