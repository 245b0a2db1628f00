{
 "patcher": {
  "fileversion": 1,
  "appversion": {
   "major": 8,
   "minor": 5,
   "revision": 0,
   "architecture": "x64",
   "modernui": 1
  },
  "classnamespace": "box",
  "rect": [
   80.0,
   80.0,
   980.0,
   840.0
  ],
  "openinpresentation": 0,
  "default_fontsize": 12.0,
  "gridsize": [
   15.0,
   15.0
  ],
  "description": "livegan remote: directions, seeds, scenes, record, bends, telemetry",
  "boxes": [
   {
    "box": {
     "id": "obj-1",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20.0,
      10.0,
      700.0,
      20.0
     ],
     "text": "livegan remote - run: livegan perform patches/maxmsp.toml --feedback 127.0.0.1:9000"
    }
   },
   {
    "box": {
     "id": "obj-2",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20.0,
      790.0,
      170.0,
      22.0
     ],
     "text": "udpsend 127.0.0.1 12000"
    }
   },
   {
    "box": {
     "id": "obj-3",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20.0,
      40.0,
      200.0,
      20.0
     ],
     "text": "directions 0..7 (-3..3)"
    }
   },
   {
    "box": {
     "id": "obj-4",
     "maxclass": "slider",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      20.0,
      65.0,
      22.0,
      140.0
     ],
     "outlettype": [
      ""
     ],
     "parameter_enable": 0,
     "floatoutput": 1,
     "min": -3.0,
     "size": 6.0
    }
   },
   {
    "box": {
     "id": "obj-5",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      20.0,
      215.0,
      130.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "prepend /livegan/dir/0"
    }
   },
   {
    "box": {
     "id": "obj-6",
     "maxclass": "slider",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      75.0,
      65.0,
      22.0,
      140.0
     ],
     "outlettype": [
      ""
     ],
     "parameter_enable": 0,
     "floatoutput": 1,
     "min": -3.0,
     "size": 6.0
    }
   },
   {
    "box": {
     "id": "obj-7",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      75.0,
      241.0,
      130.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "prepend /livegan/dir/1"
    }
   },
   {
    "box": {
     "id": "obj-8",
     "maxclass": "slider",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      130.0,
      65.0,
      22.0,
      140.0
     ],
     "outlettype": [
      ""
     ],
     "parameter_enable": 0,
     "floatoutput": 1,
     "min": -3.0,
     "size": 6.0
    }
   },
   {
    "box": {
     "id": "obj-9",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      130.0,
      267.0,
      130.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "prepend /livegan/dir/2"
    }
   },
   {
    "box": {
     "id": "obj-10",
     "maxclass": "slider",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      185.0,
      65.0,
      22.0,
      140.0
     ],
     "outlettype": [
      ""
     ],
     "parameter_enable": 0,
     "floatoutput": 1,
     "min": -3.0,
     "size": 6.0
    }
   },
   {
    "box": {
     "id": "obj-11",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      185.0,
      215.0,
      130.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "prepend /livegan/dir/3"
    }
   },
   {
    "box": {
     "id": "obj-12",
     "maxclass": "slider",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      240.0,
      65.0,
      22.0,
      140.0
     ],
     "outlettype": [
      ""
     ],
     "parameter_enable": 0,
     "floatoutput": 1,
     "min": -3.0,
     "size": 6.0
    }
   },
   {
    "box": {
     "id": "obj-13",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      240.0,
      241.0,
      130.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "prepend /livegan/dir/4"
    }
   },
   {
    "box": {
     "id": "obj-14",
     "maxclass": "slider",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      295.0,
      65.0,
      22.0,
      140.0
     ],
     "outlettype": [
      ""
     ],
     "parameter_enable": 0,
     "floatoutput": 1,
     "min": -3.0,
     "size": 6.0
    }
   },
   {
    "box": {
     "id": "obj-15",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      295.0,
      267.0,
      130.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "prepend /livegan/dir/5"
    }
   },
   {
    "box": {
     "id": "obj-16",
     "maxclass": "slider",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      350.0,
      65.0,
      22.0,
      140.0
     ],
     "outlettype": [
      ""
     ],
     "parameter_enable": 0,
     "floatoutput": 1,
     "min": -3.0,
     "size": 6.0
    }
   },
   {
    "box": {
     "id": "obj-17",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      350.0,
      215.0,
      130.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "prepend /livegan/dir/6"
    }
   },
   {
    "box": {
     "id": "obj-18",
     "maxclass": "slider",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      405.0,
      65.0,
      22.0,
      140.0
     ],
     "outlettype": [
      ""
     ],
     "parameter_enable": 0,
     "floatoutput": 1,
     "min": -3.0,
     "size": 6.0
    }
   },
   {
    "box": {
     "id": "obj-19",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      405.0,
      241.0,
      130.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "prepend /livegan/dir/7"
    }
   },
   {
    "box": {
     "id": "obj-20",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      560.0,
      40.0,
      200.0,
      20.0
     ],
     "text": "seed (glides over 2 s)"
    }
   },
   {
    "box": {
     "id": "obj-21",
     "maxclass": "number",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      560.0,
      65.0,
      60.0,
      22.0
     ],
     "outlettype": [
      "",
      "bang"
     ],
     "parameter_enable": 0,
     "minimum": 0
    }
   },
   {
    "box": {
     "id": "obj-22",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      560.0,
      95.0,
      80.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "pack 0 2."
    }
   },
   {
    "box": {
     "id": "obj-23",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      560.0,
      125.0,
      150.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "prepend /livegan/seed"
    }
   },
   {
    "box": {
     "id": "obj-24",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      560.0,
      160.0,
      200.0,
      20.0
     ],
     "text": "scenes (from the patch)"
    }
   },
   {
    "box": {
     "id": "obj-25",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      560.0,
      185.0,
      164.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "/livegan/scene calm"
    }
   },
   {
    "box": {
     "id": "obj-26",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      740.0,
      185.0,
      164.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "/livegan/scene wild"
    }
   },
   {
    "box": {
     "id": "obj-27",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      560.0,
      220.0,
      200.0,
      20.0
     ],
     "text": "record, snapshot, HUD"
    }
   },
   {
    "box": {
     "id": "obj-28",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      560.0,
      245.0,
      148.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "/livegan/record 1"
    }
   },
   {
    "box": {
     "id": "obj-29",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      710.0,
      245.0,
      148.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "/livegan/record 0"
    }
   },
   {
    "box": {
     "id": "obj-30",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      560.0,
      275.0,
      148.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "/livegan/snapshot"
    }
   },
   {
    "box": {
     "id": "obj-31",
     "maxclass": "toggle",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      560.0,
      310.0,
      24.0,
      24.0
     ],
     "outlettype": [
      "int"
     ],
     "parameter_enable": 0
    }
   },
   {
    "box": {
     "id": "obj-32",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      595.0,
      311.0,
      140.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "prepend /livegan/hud"
    }
   },
   {
    "box": {
     "id": "obj-33",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      560.0,
      350.0,
      60.0,
      22.0
     ],
     "outlettype": [
      "",
      "bang"
     ],
     "parameter_enable": 0,
     "minimum": 0.0,
     "maximum": 2.0,
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-34",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      630.0,
      350.0,
      170.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "prepend /livegan/truncation"
    }
   },
   {
    "box": {
     "id": "obj-35",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      560.0,
      375.0,
      200.0,
      20.0
     ],
     "text": "truncation 0..2"
    }
   },
   {
    "box": {
     "id": "obj-36",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20.0,
      300.0,
      320.0,
      20.0
     ],
     "text": "telemetry (livegan --feedback 127.0.0.1:9000)"
    }
   },
   {
    "box": {
     "id": "obj-37",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      20.0,
      325.0,
      110.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "udpreceive 9000"
    }
   },
   {
    "box": {
     "id": "obj-38",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 10,
     "patching_rect": [
      20.0,
      355.0,
      430.0,
      22.0
     ],
     "outlettype": [
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      ""
     ],
     "text": "route /livegan/fps /livegan/frame /livegan/heartbeat /livegan/model /livegan/error /livegan/beat /livegan/audio/level /livegan/audio/bands /livegan/audio/onset"
    }
   },
   {
    "box": {
     "id": "obj-39",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      20.0,
      390.0,
      70.0,
      22.0
     ],
     "outlettype": [
      "",
      "bang"
     ],
     "parameter_enable": 0
    }
   },
   {
    "box": {
     "id": "obj-40",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20.0,
      415.0,
      80.0,
      20.0
     ],
     "text": "fps"
    }
   },
   {
    "box": {
     "id": "obj-41",
     "maxclass": "number",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      110.0,
      390.0,
      70.0,
      22.0
     ],
     "outlettype": [
      "",
      "bang"
     ],
     "parameter_enable": 0
    }
   },
   {
    "box": {
     "id": "obj-42",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      110.0,
      415.0,
      80.0,
      20.0
     ],
     "text": "frame"
    }
   },
   {
    "box": {
     "id": "obj-43",
     "maxclass": "number",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      200.0,
      390.0,
      70.0,
      22.0
     ],
     "outlettype": [
      "",
      "bang"
     ],
     "parameter_enable": 0
    }
   },
   {
    "box": {
     "id": "obj-44",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      200.0,
      415.0,
      80.0,
      20.0
     ],
     "text": "heartbeat"
    }
   },
   {
    "box": {
     "id": "obj-45",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      20.0,
      445.0,
      80.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "prepend set"
    }
   },
   {
    "box": {
     "id": "obj-46",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      110.0,
      445.0,
      330.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "-"
    }
   },
   {
    "box": {
     "id": "obj-47",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20.0,
      470.0,
      80.0,
      20.0
     ],
     "text": "model"
    }
   },
   {
    "box": {
     "id": "obj-48",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      20.0,
      500.0,
      80.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "prepend set"
    }
   },
   {
    "box": {
     "id": "obj-49",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      110.0,
      500.0,
      330.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "-"
    }
   },
   {
    "box": {
     "id": "obj-50",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20.0,
      525.0,
      80.0,
      20.0
     ],
     "text": "error"
    }
   },
   {
    "box": {
     "id": "obj-51",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20.0,
      600.0,
      560.0,
      20.0
     ],
     "text": "network bending - layers 4 8 16 32 64 128 of the bundled 256px models; 0 = no change"
    }
   },
   {
    "box": {
     "id": "obj-52",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20.0,
      625.0,
      120.0,
      20.0
     ],
     "text": "8 rotate -180..180"
    }
   },
   {
    "box": {
     "id": "obj-53",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      160.0,
      625.0,
      150.0,
      20.0
     ],
     "text": "16 translate x y -1..1"
    }
   },
   {
    "box": {
     "id": "obj-54",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      330.0,
      625.0,
      110.0,
      20.0
     ],
     "text": "32 noise 0..1"
    }
   },
   {
    "box": {
     "id": "obj-55",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      560.0,
      625.0,
      110.0,
      20.0
     ],
     "text": "every bend off"
    }
   },
   {
    "box": {
     "id": "obj-56",
     "maxclass": "dial",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      20.0,
      650.0,
      44.0,
      44.0
     ],
     "outlettype": [
      "float"
     ],
     "parameter_enable": 0,
     "floatoutput": 1,
     "min": -180.0,
     "size": 360.0
    }
   },
   {
    "box": {
     "id": "obj-57",
     "maxclass": "dial",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      160.0,
      650.0,
      44.0,
      44.0
     ],
     "outlettype": [
      "float"
     ],
     "parameter_enable": 0,
     "floatoutput": 1,
     "min": -1.0,
     "size": 2.0
    }
   },
   {
    "box": {
     "id": "obj-58",
     "maxclass": "dial",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      214.0,
      650.0,
      44.0,
      44.0
     ],
     "outlettype": [
      "float"
     ],
     "parameter_enable": 0,
     "floatoutput": 1,
     "min": -1.0,
     "size": 2.0
    }
   },
   {
    "box": {
     "id": "obj-59",
     "maxclass": "slider",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      330.0,
      660.0,
      120.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "parameter_enable": 0,
     "floatoutput": 1,
     "min": 0.0,
     "size": 1.0
    }
   },
   {
    "box": {
     "id": "obj-60",
     "maxclass": "button",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      560.0,
      650.0,
      24.0,
      24.0
     ],
     "outlettype": [
      "bang"
     ],
     "parameter_enable": 0
    }
   },
   {
    "box": {
     "id": "obj-61",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      160.0,
      705.0,
      70.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "pak 0. 0."
    }
   },
   {
    "box": {
     "id": "obj-62",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      560.0,
      705.0,
      115.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "/livegan/bend/off"
    }
   },
   {
    "box": {
     "id": "obj-63",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      330.0,
      705.0,
      190.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "prepend /livegan/bend/32/noise"
    }
   },
   {
    "box": {
     "id": "obj-64",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      20.0,
      735.0,
      190.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "prepend /livegan/bend/8/rotate"
    }
   },
   {
    "box": {
     "id": "obj-65",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      230.0,
      735.0,
      215.0,
      22.0
     ],
     "outlettype": [
      ""
     ],
     "text": "prepend /livegan/bend/16/translate"
    }
   }
  ],
  "lines": [
   {
    "patchline": {
     "source": [
      "obj-4",
      0
     ],
     "destination": [
      "obj-5",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-5",
      0
     ],
     "destination": [
      "obj-2",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-6",
      0
     ],
     "destination": [
      "obj-7",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      0
     ],
     "destination": [
      "obj-2",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-8",
      0
     ],
     "destination": [
      "obj-9",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-9",
      0
     ],
     "destination": [
      "obj-2",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-10",
      0
     ],
     "destination": [
      "obj-11",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-11",
      0
     ],
     "destination": [
      "obj-2",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-12",
      0
     ],
     "destination": [
      "obj-13",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-13",
      0
     ],
     "destination": [
      "obj-2",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-14",
      0
     ],
     "destination": [
      "obj-15",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-15",
      0
     ],
     "destination": [
      "obj-2",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-16",
      0
     ],
     "destination": [
      "obj-17",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-17",
      0
     ],
     "destination": [
      "obj-2",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-18",
      0
     ],
     "destination": [
      "obj-19",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-19",
      0
     ],
     "destination": [
      "obj-2",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-21",
      0
     ],
     "destination": [
      "obj-22",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-22",
      0
     ],
     "destination": [
      "obj-23",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-23",
      0
     ],
     "destination": [
      "obj-2",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-25",
      0
     ],
     "destination": [
      "obj-2",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-26",
      0
     ],
     "destination": [
      "obj-2",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-28",
      0
     ],
     "destination": [
      "obj-2",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-29",
      0
     ],
     "destination": [
      "obj-2",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-30",
      0
     ],
     "destination": [
      "obj-2",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-31",
      0
     ],
     "destination": [
      "obj-32",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-32",
      0
     ],
     "destination": [
      "obj-2",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-33",
      0
     ],
     "destination": [
      "obj-34",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-34",
      0
     ],
     "destination": [
      "obj-2",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-37",
      0
     ],
     "destination": [
      "obj-38",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-38",
      0
     ],
     "destination": [
      "obj-39",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-38",
      1
     ],
     "destination": [
      "obj-41",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-38",
      2
     ],
     "destination": [
      "obj-43",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-38",
      3
     ],
     "destination": [
      "obj-45",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-45",
      0
     ],
     "destination": [
      "obj-46",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-38",
      4
     ],
     "destination": [
      "obj-48",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-48",
      0
     ],
     "destination": [
      "obj-49",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-56",
      0
     ],
     "destination": [
      "obj-64",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-64",
      0
     ],
     "destination": [
      "obj-2",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-57",
      0
     ],
     "destination": [
      "obj-61",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-58",
      0
     ],
     "destination": [
      "obj-61",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-61",
      0
     ],
     "destination": [
      "obj-65",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-65",
      0
     ],
     "destination": [
      "obj-2",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-59",
      0
     ],
     "destination": [
      "obj-63",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-63",
      0
     ],
     "destination": [
      "obj-2",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-60",
      0
     ],
     "destination": [
      "obj-62",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-62",
      0
     ],
     "destination": [
      "obj-2",
      0
     ]
    }
   }
  ]
 }
}
