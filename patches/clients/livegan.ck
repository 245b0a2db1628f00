// livegan from ChucK: a slow LFO on direction 0, a new seed every 4 beats, bends on an LFO
// and the beat, telemetry back.
//
//   livegan perform --feedback 127.0.0.1:9000
//   chuck livegan.ck
//
// livegan listens on UDP 12000 (see `livegan osc` for every address) and, with
// --feedback, sends /livegan/fps, /livegan/frame, /livegan/heartbeat, /livegan/model,
// /livegan/error, /livegan/beat (each beat: number, place in the bar, bpm) and, with
// --audio, /livegan/audio/level, /livegan/audio/bands, /livegan/audio/onset to port 9000.

"127.0.0.1" => string HOST;
12000 => int PORT;
9000 => int FEEDBACK;
120.0 => float BPM;
(60.0 / BPM)::second => dur beat;

OscOut out;
out.dest(HOST, PORT);

// one message with one float
fun void send(string address, float value)
{
    out.start(address);
    out.add(value);
    out.send();
}

// glide to seed i over `seconds`
fun void seed(int i, float seconds)
{
    out.start("/livegan/seed");
    out.add(i);
    out.add(seconds);
    out.send();
}

// direction 0 follows a sine, 30 updates a second (livegan smooths in between)
fun void lfo()
{
    0.0 => float phase;
    while (true)
    {
        send("/livegan/dir/0", 2.0 * Math.sin(phase));
        phase + 2.0 * Math.PI / (8.0 * 30.0) => phase;   // one cycle per 8 s
        (1.0 / 30.0)::second => now;
    }
}

// bends (layers 4 8 16 32 64 128 on the bundled 256x256 models; 0 = no change): a slow
// LFO turns layer 8 and sways layer 16 in a circle, 30 updates a second
fun void bendLfo()
{
    0.0 => float phase;
    while (true)
    {
        send("/livegan/bend/8/rotate", 90.0 * Math.sin(phase));
        out.start("/livegan/bend/16/translate");
        out.add(0.2 * Math.cos(phase));
        out.add(0.2 * Math.sin(phase));
        out.send();
        phase + 2.0 * Math.PI / (16.0 * 30.0) => phase;  // one sway per 16 s
        (1.0 / 30.0)::second => now;
    }
}

// each beat kicks noise into layer 32 (a new phase, a new noise) for a quarter of the beat
fun void bendBeat()
{
    while (true)
    {
        out.start("/livegan/bend/32/noise");
        out.add(0.6);
        out.add(Math.random2f(-1000.0, 1000.0));
        out.send();
        0.25::beat => now;
        send("/livegan/bend/32/noise", 0.0);
        0.75::beat => now;
    }
}

// print what livegan reports
fun void telemetry()
{
    OscIn in;
    OscMsg msg;
    FEEDBACK => in.port;
    in.addAddress("/livegan/fps, f");
    in.addAddress("/livegan/model, s");
    in.addAddress("/livegan/error, s");
    in.addAddress("/livegan/beat, i i f");
    in.addAddress("/livegan/audio/level, f");
    while (true)
    {
        in => now;
        while (in.recv(msg))
        {
            if (msg.address == "/livegan/fps") <<< "fps", msg.getFloat(0) >>>;
            else if (msg.address == "/livegan/beat")
                <<< "beat", msg.getInt(1), "of the bar at", msg.getFloat(2), "bpm" >>>;
            else if (msg.address == "/livegan/audio/level") <<< "level", msg.getFloat(0) >>>;
            else <<< msg.address, msg.getString(0) >>>;
        }
    }
}

spork ~ lfo();
spork ~ bendLfo();
spork ~ bendBeat();
spork ~ telemetry();

// a new seed every 4 beats, gliding for 2 beats
1 => int next;
while (true)
{
    seed(next, 2.0 * (beat / second));
    next++;
    4::beat => now;
}
