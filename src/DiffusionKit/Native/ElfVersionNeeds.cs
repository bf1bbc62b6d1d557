// One file, two compiles (docs/native-loading.md):
//  - into the DiffusionKit library, where TorchSharpNativeCompatibility uses it for the run-time check (and the opt-in
//    patched copy);
//  - from the NuGet package's build/ and buildTransitive/ folders (this repository: src/DiffusionKit/Native), by MSBuild's
//    RoslynCodeTaskFactory, into the build step DiffusionKit.targets runs after the output and publish copies
//    (DiffusionKitWeakenLibStdCxx below).
// That second compile references netstandard 2.0 only and defines no symbols, so this file is plain C#: byte arrays, no
// spans, no implicit usings; the MSBuild task is under #if !NET (the .NET SDK defines NET for the library).
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace DiffusionKit.Native
{
    /// <summary>
    /// Reads and edits the symbol-version requirements (<c>.gnu.version_r</c>, <c>Elf64_Verneed</c>/<c>Elf64_Vernaux</c>)
    /// of a little-endian ELF64 shared library held in memory, and says which of them DiffusionKit may mark weak.
    /// </summary>
    /// <remarks>
    /// TorchSharp 0.107's <c>libLibTorchSharp.so</c> requires <c>GLIBCXX_3.4.32</c> (GCC 13) for one symbol,
    /// <c>_ZSt21ios_base_library_initv</c>, that no relocation uses (<c>readelf -W -r</c> lists none). Marked weak
    /// (<c>VER_FLG_WEAK</c>), the requirement stops the loader only where it would have refused the library: a libstdc++
    /// that has the version binds exactly as before, one that lacks it (Debian 12, Ubuntu 22.04) now loads the library,
    /// which runs unchanged. That is why the build step may weaken it whatever libstdc++ the build machine has.
    /// </remarks>
    internal static class ElfVersionNeeds
    {
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const ushort VerFlgWeak = 0x2;

        /// <summary>Versions known to be requested only by symbols no relocation uses, so that a weak requirement is safe.</summary>
        private static readonly HashSet<string> SafeToWeakenVersions = new HashSet<string>(StringComparer.Ordinal) { "GLIBCXX_3.4.32" };

        /// <summary>One required symbol version.</summary>
        internal sealed class Requirement
        {
            /// <summary>Creates a requirement.</summary>
            internal Requirement(string file, string version, bool weak, int flagsOffset)
            {
                File = file;
                Version = version;
                Weak = weak;
                FlagsOffset = flagsOffset;
            }

            /// <summary>The library the version is required from (e.g. <c>libstdc++.so.6</c>).</summary>
            internal string File { get; }

            /// <summary>The version name (e.g. <c>GLIBCXX_3.4.32</c>).</summary>
            internal string Version { get; }

            /// <summary>Whether the requirement is weak (the loader only warns when it is missing).</summary>
            internal bool Weak { get; }

            /// <summary>File offset of the entry's <c>vna_flags</c> field.</summary>
            internal int FlagsOffset { get; }

            /// <summary>Whether this is a libstdc++ requirement.</summary>
            internal bool IsLibStdCxx => File.StartsWith("libstdc++", StringComparison.Ordinal);

            /// <summary>Whether DiffusionKit may mark this requirement weak: a libstdc++ version only unused symbols ask for.</summary>
            internal bool SafeToWeaken => IsLibStdCxx && SafeToWeakenVersions.Contains(Version);
        }

        /// <summary>Lists every version requirement of the image.</summary>
        /// <exception cref="InvalidDataException">When the bytes are not a well-formed little-endian ELF64 image.</exception>
        internal static IReadOnlyList<Requirement> Read(byte[] image)
        {
            if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
            {
                throw new InvalidDataException("Not an ELF file.");
            }

            if (image[4] != 2 || image[5] != 1)
            {
                throw new InvalidDataException("Only little-endian ELF64 images are supported.");
            }

            long shoff = CheckedOffset(ReadUInt64(image, 0x28), image.Length);
            int shentsize = ReadUInt16(image, 0x3A);
            int shnum = ReadUInt16(image, 0x3C);
            if (shentsize < 64 || shoff <= 0 || shoff + ((long)shnum * shentsize) > image.Length)
            {
                throw new InvalidDataException("Section header table lies outside the file.");
            }

            var result = new List<Requirement>();
            for (int i = 0; i < shnum; i++)
            {
                int sh = checked((int)(shoff + ((long)i * shentsize)));
                if (ReadUInt32(image, sh + 4) != ShtGnuVerneed)
                {
                    continue;
                }

                int offset = CheckedOffset(ReadUInt64(image, sh + 24), image.Length);
                int size = CheckedOffset(ReadUInt64(image, sh + 32), image.Length - offset);
                long link = ReadUInt32(image, sh + 40);
                long count = ReadUInt32(image, sh + 44);
                if (link >= shnum)
                {
                    throw new InvalidDataException("Version-needs section links to a missing string table.");
                }

                int strtab = checked((int)(shoff + (link * shentsize)));
                int strOffset = CheckedOffset(ReadUInt64(image, strtab + 24), image.Length);
                int strSize = CheckedOffset(ReadUInt64(image, strtab + 32), image.Length - strOffset);

                long need = 0;
                for (long n = 0; n < count; n++)
                {
                    EnsureRange(need, 16, size);
                    int entry = offset + (int)need;
                    int auxCount = ReadUInt16(image, entry + 2);
                    string file = ReadString(image, strOffset, strSize, ReadUInt32(image, entry + 4));
                    long aux = need + ReadUInt32(image, entry + 8);
                    for (int a = 0; a < auxCount; a++)
                    {
                        EnsureRange(aux, 16, size);
                        int auxEntry = offset + (int)aux;
                        ushort flags = ReadUInt16(image, auxEntry + 4);
                        string version = ReadString(image, strOffset, strSize, ReadUInt32(image, auxEntry + 8));
                        result.Add(new Requirement(file, version, (flags & VerFlgWeak) != 0, auxEntry + 4));
                        aux += ReadUInt32(image, auxEntry + 12);
                    }

                    need += ReadUInt32(image, entry + 12);
                }
            }

            return result;
        }

        /// <summary>Marks one requirement weak in the image.</summary>
        internal static void MarkWeak(byte[] image, Requirement requirement)
        {
            image[requirement.FlagsOffset] |= (byte)VerFlgWeak;
        }

        /// <summary>
        /// Marks weak every strong requirement of the image that is <see cref="Requirement.SafeToWeaken"/> and returns
        /// those it changed (none when the image is already patched or never needed it). Other requirements are left as
        /// they are: a system that lacks them still cannot load the library.
        /// </summary>
        /// <exception cref="InvalidDataException">When the bytes are not a well-formed little-endian ELF64 image.</exception>
        internal static IReadOnlyList<Requirement> WeakenSafeRequirements(byte[] image)
        {
            var changed = new List<Requirement>();
            foreach (var requirement in Read(image))
            {
                if (!requirement.Weak && requirement.SafeToWeaken)
                {
                    MarkWeak(image, requirement);
                    changed.Add(requirement);
                }
            }

            return changed;
        }

        private static ushort ReadUInt16(byte[] image, int at)
        {
            EnsureRange(at, 2, image.Length);
            return (ushort)(image[at] | (image[at + 1] << 8));
        }

        private static uint ReadUInt32(byte[] image, int at)
        {
            EnsureRange(at, 4, image.Length);
            return image[at] | ((uint)image[at + 1] << 8) | ((uint)image[at + 2] << 16) | ((uint)image[at + 3] << 24);
        }

        private static ulong ReadUInt64(byte[] image, int at) => ReadUInt32(image, at) | ((ulong)ReadUInt32(image, at + 4) << 32);

        private static int CheckedOffset(ulong value, int limit)
        {
            if (value > (ulong)limit)
            {
                throw new InvalidDataException("A section lies outside the file.");
            }

            return (int)value;
        }

        private static void EnsureRange(long start, int length, int limit)
        {
            if (start < 0 || start + length > limit)
            {
                throw new InvalidDataException("A version-needs entry lies outside its section.");
            }
        }

        private static string ReadString(byte[] image, int tableOffset, int tableSize, uint index)
        {
            if (index >= tableSize)
            {
                throw new InvalidDataException("A string index lies outside the string table.");
            }

            int start = tableOffset + (int)index;
            int end = Array.IndexOf(image, (byte)0, start, tableOffset + tableSize - start);
            return Encoding.ASCII.GetString(image, start, (end < 0 ? tableOffset + tableSize : end) - start);
        }
    }

#if !NET
    /// <summary>
    /// The build step (DiffusionKit.targets): in each given <c>libLibTorchSharp.so</c> of an app's output or publish
    /// folder, marks the <c>GLIBCXX_3.4.32</c> requirement weak, so the app loads TorchSharp on Debian 12 / Ubuntu 22.04
    /// with no file written at run time.
    /// </summary>
    /// <remarks>
    /// The output's copy may be a hard link to the NuGet cache (<c>CreateHardLinksForCopyLocalIfPossible</c>), so the file
    /// is never written in place: the patched bytes go to a new file beside it (a copy, keeping the mode), which is then
    /// renamed over the output path. The new file keeps the original's time stamp, so that MSBuild's incremental copy
    /// (same size and time: unchanged) leaves it alone on the next build; an already patched file is not touched.
    /// </remarks>
    public sealed class DiffusionKitWeakenLibStdCxx : Microsoft.Build.Utilities.Task
    {
        /// <summary>The candidate files; those that do not exist are skipped.</summary>
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        /// <summary>The files this run changed.</summary>
        [Microsoft.Build.Framework.Output]
        public Microsoft.Build.Framework.ITaskItem[] Patched { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        /// <inheritdoc />
        public override bool Execute()
        {
            var patched = new List<Microsoft.Build.Framework.ITaskItem>();
            foreach (var item in Files)
            {
                string path = item.GetMetadata("FullPath");
                if (!File.Exists(path))
                {
                    continue;
                }

                byte[] image = File.ReadAllBytes(path);
                IReadOnlyList<ElfVersionNeeds.Requirement> changed;
                try
                {
                    changed = ElfVersionNeeds.WeakenSafeRequirements(image);
                }
                catch (InvalidDataException ex)
                {
                    Log.LogError("DiffusionKit: '{0}' is not a readable ELF64 library ({1}). Clear TorchSharp's entry in the NuGet cache and rebuild.", path, ex.Message);
                    continue;
                }

                if (changed.Count == 0)
                {
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, "DiffusionKit: '{0}' needs no change (already patched, or no GLIBCXX_3.4.32 requirement).", path);
                    continue;
                }

                string temp = Path.Combine(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
                try
                {
                    File.Copy(path, temp);
                    using (var stream = new FileStream(temp, FileMode.Open, FileAccess.Write))
                    {
                        stream.Write(image, 0, image.Length);
                    }

                    File.SetLastWriteTimeUtc(temp, File.GetLastWriteTimeUtc(path));
                    File.Replace(temp, path, null);
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
                {
                    if (File.Exists(temp))
                    {
                        File.Delete(temp);
                    }

                    Log.LogError("DiffusionKit: could not write the patched '{0}' ({1}).", path, ex.Message);
                    continue;
                }

                var versions = new List<string>();
                foreach (var requirement in changed)
                {
                    versions.Add(requirement.Version);
                }

                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                    "DiffusionKit: marked {0} weak in '{1}' so TorchSharp loads with an older libstdc++ (docs/native-loading.md).", string.Join(", ", versions), path);
                patched.Add(item);
            }

            Patched = patched.ToArray();
            return !Log.HasLoggedErrors;
        }
    }
#endif
}
