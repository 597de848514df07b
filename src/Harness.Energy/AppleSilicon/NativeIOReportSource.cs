using System.Runtime.InteropServices;
using System.Text;
using Harness.Core.Energy;

namespace Harness.Energy.AppleSilicon;

/// <summary>
/// The Energy Model group through the private libIOReport and CoreFoundation. Both are bound at run time with
/// <see cref="NativeLibrary"/> and function pointers, so nothing here is touched on other systems until a call is made.
/// </summary>
internal sealed class NativeIOReportSource : IIOReportSource
{
    private const string IOReportPath = "/usr/lib/libIOReport.dylib";
    private const string CoreFoundationPath = "/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation";

    public IReadOnlyList<IOReportChannelInfo> Channels()
    {
        var api = IOReportApi.Load();
        var group = api.CopyEnergyModelChannels();
        try
        {
            return api.ChannelInfos(group);
        }
        finally
        {
            api.Release(group);
        }
    }

    public IIOReportSubscription Subscribe() => NativeSubscription.Open(IOReportApi.Load());

    private sealed class NativeSubscription : IIOReportSubscription
    {
        private readonly IOReportApi _api;
        private readonly nint _channels;
        private readonly nint _subscription;
        private nint _previous;

        private NativeSubscription(IOReportApi api, nint channels, nint subscription, nint previous, IReadOnlyList<IOReportChannelInfo> infos)
        {
            _api = api;
            _channels = channels;
            _subscription = subscription;
            _previous = previous;
            Channels = infos;
        }

        public IReadOnlyList<IOReportChannelInfo> Channels { get; }

        public static NativeSubscription Open(IOReportApi api)
        {
            var group = api.CopyEnergyModelChannels();
            nint channels = 0;
            nint subscription = 0;
            try
            {
                var infos = api.ChannelInfos(group);
                channels = api.MutableCopy(group);
                subscription = api.CreateSubscription(channels);
                var baseline = api.CreateSamples(subscription, channels);
                return new NativeSubscription(api, channels, subscription, baseline, infos);
            }
            catch
            {
                api.Release(subscription);
                api.Release(channels);
                throw;
            }
            finally
            {
                api.Release(group);
            }
        }

        public IReadOnlyList<IOReportReading> ReadDelta()
        {
            var current = _api.CreateSamples(_subscription, _channels);
            var delta = _api.CreateSamplesDelta(_previous, current);
            _api.Release(_previous);
            _previous = current;
            try
            {
                return _api.Readings(delta);
            }
            finally
            {
                _api.Release(delta);
            }
        }

        public void Dispose()
        {
            _api.Release(_previous);
            _previous = 0;
            _api.Release(_subscription);
            _api.Release(_channels);
        }
    }

    /// <summary>The functions of libIOReport and CoreFoundation this meter calls, resolved once per source use.</summary>
    private sealed unsafe class IOReportApi
    {
        private const uint Utf8Encoding = 0x08000100;

        private delegate* unmanaged<nint, nint, ulong, ulong, ulong, nint> _copyChannelsInGroup;
        private delegate* unmanaged<nint, nint, nint*, ulong, nint, nint> _createSubscription;
        private delegate* unmanaged<nint, nint, nint, nint> _createSamples;
        private delegate* unmanaged<nint, nint, nint, nint> _createSamplesDelta;
        private delegate* unmanaged<nint, nint> _channelGetChannelName;
        private delegate* unmanaged<nint, nint> _channelGetUnitLabel;
        private delegate* unmanaged<nint, int, long> _simpleGetIntegerValue;
        private delegate* unmanaged<nint, byte*, uint, nint> _stringCreateWithCString;
        private delegate* unmanaged<nint, byte*, nint, uint, byte> _stringGetCString;
        private delegate* unmanaged<nint, nint, nint> _dictionaryGetValue;
        private delegate* unmanaged<nint, nint> _dictionaryGetCount;
        private delegate* unmanaged<nint, nint, nint, nint> _dictionaryCreateMutableCopy;
        private delegate* unmanaged<nint, nint> _arrayGetCount;
        private delegate* unmanaged<nint, nint, nint> _arrayGetValueAtIndex;
        private delegate* unmanaged<nint, void> _release;

        private IOReportApi()
        {
        }

        public static IOReportApi Load()
        {
            // The libraries stay loaded for the life of the process: system frameworks are never unloaded anyway.
            if (!NativeLibrary.TryLoad(IOReportPath, out var ioReport))
            {
                throw new EnergyMeterException($"ioreport: {IOReportPath} could not be loaded");
            }

            if (!NativeLibrary.TryLoad(CoreFoundationPath, out var coreFoundation))
            {
                throw new EnergyMeterException($"ioreport: {CoreFoundationPath} could not be loaded");
            }

            return new IOReportApi
            {
                _copyChannelsInGroup = (delegate* unmanaged<nint, nint, ulong, ulong, ulong, nint>)Export(ioReport, "IOReportCopyChannelsInGroup"),
                _createSubscription = (delegate* unmanaged<nint, nint, nint*, ulong, nint, nint>)Export(ioReport, "IOReportCreateSubscription"),
                _createSamples = (delegate* unmanaged<nint, nint, nint, nint>)Export(ioReport, "IOReportCreateSamples"),
                _createSamplesDelta = (delegate* unmanaged<nint, nint, nint, nint>)Export(ioReport, "IOReportCreateSamplesDelta"),
                _channelGetChannelName = (delegate* unmanaged<nint, nint>)Export(ioReport, "IOReportChannelGetChannelName"),
                _channelGetUnitLabel = (delegate* unmanaged<nint, nint>)Export(ioReport, "IOReportChannelGetUnitLabel"),
                _simpleGetIntegerValue = (delegate* unmanaged<nint, int, long>)Export(ioReport, "IOReportSimpleGetIntegerValue"),
                _stringCreateWithCString = (delegate* unmanaged<nint, byte*, uint, nint>)Export(coreFoundation, "CFStringCreateWithCString"),
                _stringGetCString = (delegate* unmanaged<nint, byte*, nint, uint, byte>)Export(coreFoundation, "CFStringGetCString"),
                _dictionaryGetValue = (delegate* unmanaged<nint, nint, nint>)Export(coreFoundation, "CFDictionaryGetValue"),
                _dictionaryGetCount = (delegate* unmanaged<nint, nint>)Export(coreFoundation, "CFDictionaryGetCount"),
                _dictionaryCreateMutableCopy = (delegate* unmanaged<nint, nint, nint, nint>)Export(coreFoundation, "CFDictionaryCreateMutableCopy"),
                _arrayGetCount = (delegate* unmanaged<nint, nint>)Export(coreFoundation, "CFArrayGetCount"),
                _arrayGetValueAtIndex = (delegate* unmanaged<nint, nint, nint>)Export(coreFoundation, "CFArrayGetValueAtIndex"),
                _release = (delegate* unmanaged<nint, void>)Export(coreFoundation, "CFRelease"),
            };
        }

        public nint CopyEnergyModelChannels()
        {
            var name = CreateString("Energy Model\0"u8);
            try
            {
                var group = _copyChannelsInGroup(name, 0, 0, 0, 0);
                return group != 0 ? group : throw new EnergyMeterException("ioreport: IOReportCopyChannelsInGroup found no \"Energy Model\" group");
            }
            finally
            {
                Release(name);
            }
        }

        public nint MutableCopy(nint dictionary)
        {
            var copy = _dictionaryCreateMutableCopy(0, _dictionaryGetCount(dictionary), dictionary);
            return copy != 0 ? copy : throw new EnergyMeterException("ioreport: CFDictionaryCreateMutableCopy failed");
        }

        public nint CreateSubscription(nint channels)
        {
            // The out dictionary of subscribed channels is owned by the subscription; samples are taken with our own copy.
            nint subscribed = 0;
            var subscription = _createSubscription(0, channels, &subscribed, 0, 0);
            return subscription != 0 ? subscription : throw new EnergyMeterException("ioreport: IOReportCreateSubscription failed");
        }

        public nint CreateSamples(nint subscription, nint channels)
        {
            var samples = _createSamples(subscription, channels, 0);
            return samples != 0 ? samples : throw new EnergyMeterException("ioreport: IOReportCreateSamples returned nothing");
        }

        public nint CreateSamplesDelta(nint previous, nint current)
        {
            var delta = _createSamplesDelta(previous, current, 0);
            return delta != 0 ? delta : throw new EnergyMeterException("ioreport: IOReportCreateSamplesDelta returned nothing");
        }

        public IReadOnlyList<IOReportChannelInfo> ChannelInfos(nint channelsOrSamples)
        {
            var result = new List<IOReportChannelInfo>();
            foreach (var item in Items(channelsOrSamples))
            {
                result.Add(new IOReportChannelInfo(ReadString(_channelGetChannelName(item)), ReadString(_channelGetUnitLabel(item)).Trim()));
            }

            return result;
        }

        public IReadOnlyList<IOReportReading> Readings(nint samples)
        {
            var result = new List<IOReportReading>();
            foreach (var item in Items(samples))
            {
                result.Add(new IOReportReading(
                    ReadString(_channelGetChannelName(item)),
                    ReadString(_channelGetUnitLabel(item)).Trim(),
                    _simpleGetIntegerValue(item, 0)));
            }

            return result;
        }

        public void Release(nint reference)
        {
            if (reference != 0)
            {
                _release(reference);
            }
        }

        private static nint Export(nint library, string name) =>
            NativeLibrary.TryGetExport(library, name, out var address)
                ? address
                : throw new EnergyMeterException($"ioreport: the native function {name} is missing");

        private List<nint> Items(nint dictionary)
        {
            var key = CreateString("IOReportChannels\0"u8);
            try
            {
                var array = _dictionaryGetValue(dictionary, key);
                var items = new List<nint>();
                if (array == 0)
                {
                    return items;
                }

                var count = _arrayGetCount(array);
                for (nint i = 0; i < count; i++)
                {
                    items.Add(_arrayGetValueAtIndex(array, i));
                }

                return items;
            }
            finally
            {
                Release(key);
            }
        }

        private nint CreateString(ReadOnlySpan<byte> nulTerminated)
        {
            fixed (byte* text = nulTerminated)
            {
                var value = _stringCreateWithCString(0, text, Utf8Encoding);
                return value != 0 ? value : throw new EnergyMeterException("ioreport: CFStringCreateWithCString failed");
            }
        }

        // IOReport's "Get" functions return strings the channel owns: they are read, never released.
        private string ReadString(nint value)
        {
            if (value == 0)
            {
                return string.Empty;
            }

            const int Capacity = 512;
            var buffer = stackalloc byte[Capacity];
            return _stringGetCString(value, buffer, Capacity, Utf8Encoding) != 0
                ? Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(buffer))
                : string.Empty;
        }
    }
}
